/** Plain's field error types. */
export type FieldErrorType = 'VALIDATION' | 'REQUIRED' | 'NOT_FOUND';
export type FieldError = { field: string; message: string; type: FieldErrorType };

/** Input the domain refuses, field by field; the HTTP layer answers it as `input_validation`. */
export class InputError extends Error {
  readonly fields: FieldError[];
  constructor(message: string, fields: FieldError[] = []) {
    super(message);
    this.name = 'InputError';
    this.fields = fields;
  }
}
