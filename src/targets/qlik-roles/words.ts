// Owns how people's messages name Qlik tenant roles: the system, where to check by hand, what an instance is called.
import type { TargetWords } from '../types.ts';

export const QLIK_ROLES_WORDS: TargetWords = {
  system: 'Qlik',
  checkByHand: 'the roles in the Qlik Management Console',
  instance: 'tenant',
};
