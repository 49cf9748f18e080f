// Owns how people's messages name Mode group memberships: the system, where to check by hand, what an instance is.
import type { TargetWords } from '../types.ts';

export const MODE_GROUPS_WORDS: TargetWords = {
  system: 'Mode',
  checkByHand: "the group's members in Mode (Workspace Settings → Groups)",
  instance: 'workspace',
};
