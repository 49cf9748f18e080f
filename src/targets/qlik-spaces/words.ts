// Owns how people's messages name Qlik space roles: the system, where to check by hand, what an instance is called.
import type { TargetWords } from '../types.ts';

export const QLIK_SPACES_WORDS: TargetWords = {
  system: 'Qlik',
  checkByHand: "the space's members in Qlik (Space settings → Members)",
  instance: 'tenant',
};
