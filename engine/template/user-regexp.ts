// Regular expressions a template supplies (split, replace(regexp=true), matches, replaceAll…) run
// on V8's backtracking engine, where a pattern such as `(a+)+$` takes exponential time on a few
// dozen characters, synchronously: no time limit could stop it. V8 can move a match that
// backtracks too much to its linear-time engine; that is a V8 flag, set before the first template
// pattern is compiled. Patterns the linear engine cannot run (backreferences, lookarounds) still
// backtrack.
import { setFlagsFromString } from 'node:v8';

let linearFallback = false;

/** `new RegExp(pattern, flags)` for a pattern written in a template. */
export function userRegExp(pattern: string, flags?: string): RegExp {
  if (!linearFallback) {
    setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
    linearFallback = true;
  }
  return new RegExp(pattern, flags);
}
