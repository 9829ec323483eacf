/** Schema of a required child task list; each item is validated recursively by the flow validator. */
export const taskListSchema = { type: 'array', minItems: 1, items: { type: 'object' } } as const;

/** An optional task list (`errors`, `else`, `defaults`) may be empty. */
export const optionalTaskListSchema = { type: 'array', items: { type: 'object' } } as const;
