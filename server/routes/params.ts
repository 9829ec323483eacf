import { HttpError } from '../errors.ts';

/** A positive integer query parameter, or a 400 naming it. */
export function intParam(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined || value === '') {
    if (fallback !== undefined) return fallback;
    throw new HttpError(400, `query parameter '${name}' is required`);
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `query parameter '${name}' must be a positive integer, got '${value}'`);
  return n;
}

/** 409: the resource lives in Git. */
export function readOnlyInGit(message: string): never {
  throw new HttpError(409, message);
}
