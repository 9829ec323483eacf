/** One rejected input: which one, and a sentence naming it (`Invalid input 'year': expected INT, got 'abc'`). */
export interface InputProblem {
  inputId: string;
  message: string;
}

/** Every bad input of one submission, reported together so a form can show them all at once. */
export class InputValidationError extends Error {
  override readonly name = 'InputValidationError';

  constructor(readonly problems: readonly InputProblem[]) {
    super(
      problems.length === 1
        ? problems[0].message
        : `${problems.length} invalid inputs: ${problems.map((p) => p.message).join('; ')}`,
    );
  }
}

/**
 * A value that does not fit its type or constraints. `reason` has no input id in it
 * (`expected INT, got 'abc'`): callers say whose value it was (an input, a flow output).
 */
export class TypedValueError extends Error {
  override readonly name = 'TypedValueError';

  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(reason, options);
  }
}
