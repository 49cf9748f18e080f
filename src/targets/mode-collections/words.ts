// Owns how people's messages name Mode Collection permissions: the system, where to check by hand, what an instance is.
import type { TargetWords } from '../types.ts';

export const MODE_COLLECTIONS_WORDS: TargetWords = {
  system: 'Mode',
  checkByHand: "the Collection's access in Mode (the Collection's Share / Manage access)",
  instance: 'workspace',
};
