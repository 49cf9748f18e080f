// Owns how people's messages name Qlik accounts (invites): the system, where to check by hand, what an instance is.
import type { TargetWords } from '../types.ts';

export const QLIK_ACCOUNT_WORDS: TargetWords = {
  system: 'Qlik',
  checkByHand: 'the user in the Qlik Management Console (Users)',
  instance: 'tenant',
};
