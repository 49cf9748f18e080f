// Owns the words of each kind of access, known without a configured instance: a front words a stored request's
// outcome with them even when its target is no longer configured. Adding a kind of access adds its line here.
import { MODE_COLLECTIONS_WORDS } from './mode-collections/words.ts';
import { MODE_GROUPS_WORDS } from './mode-groups/words.ts';
import { QLIK_ACCOUNT_WORDS } from './qlik-account/words.ts';
import { QLIK_ROLES_WORDS } from './qlik-roles/words.ts';
import { QLIK_SPACES_WORDS } from './qlik-spaces/words.ts';
import type { TargetWords } from './types.ts';

const WORDS_BY_KIND: Readonly<Record<string, TargetWords>> = {
  'mode-collections': MODE_COLLECTIONS_WORDS,
  'mode-groups': MODE_GROUPS_WORDS,
  'qlik-account': QLIK_ACCOUNT_WORDS,
  'qlik-roles': QLIK_ROLES_WORDS,
  'qlik-spaces': QLIK_SPACES_WORDS,
};

/** The words for `kind`; for a kind this build does not know, plain words naming it. */
export function wordsOfKind(kind: string): TargetWords {
  return Object.hasOwn(WORDS_BY_KIND, kind)
    ? (WORDS_BY_KIND[kind] as TargetWords)
    : { system: kind, checkByHand: `the access in ${kind}`, instance: 'instance' };
}
