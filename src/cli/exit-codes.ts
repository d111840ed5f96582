import { CommanderError } from 'commander';
import { InputError } from '../domain/input-error.ts';
import { describeError, ERRORS } from '../error-catalogue.ts';

/**
 * The `intake` command's exit codes, and which error ends in which, in one place. Expected
 * failures (bad input, a provider or the database out of reach, bad configuration) print one
 * clear message and no stack trace; only the unexpected keep their stack, as that is a bug.
 * The numbers follow sysexits.h where one fits, so scripts can tell "fix the input" from "retry".
 */
export const EXIT = Object.freeze({
  ok: 0,
  /** A run that did not succeed (failed, needs re-authorisation, cancelled), or an unexpected error. */
  failed: ERRORS.internal.exit,
  /** Refused input: a bad or missing option, a missing secret, credentials the provider refused, an unknown id. */
  input: ERRORS.input_validation.exit,
  /** EX_UNAVAILABLE: the provider (or the database) could not be reached; nothing was saved, try again later. */
  unavailable: ERRORS.service_unavailable.exit,
  /** EX_CONFIG: the environment's settings are invalid. */
  config: ERRORS.invalid_configuration.exit,
  /** Interrupted (Ctrl-C): a foreground run resumes from its last page next time. */
  interrupted: 130,
});

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What the command prints on stderr for an error, and the code it exits with; `message` null: already printed. */
export function exitFor(err: unknown): { code: number; message: string | null } {
  // Commander printed its own usage error (or the help) already.
  if (err instanceof CommanderError) return { code: err.exitCode === 0 ? EXIT.ok : EXIT.input, message: null };
  if (err instanceof InputError) return { code: EXIT.input, message: inputMessage(err) };
  // The same catalogue as the API's: the code's exit status, the catalogue's words.
  const known = describeError(err);
  if (known) return { code: ERRORS[known.code].exit, message: known.message };
  return { code: EXIT.failed, message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}

/** One line for one field ("zendesk refused these credentials (credentials: Couldn't authenticate you)"); a list for several. */
function inputMessage(err: InputError): string {
  const [only, ...more] = err.fields;
  if (!only) return err.message;
  if (more.length === 0) return `${err.message} (${only.field}: ${only.message})`;
  return `${err.message}:\n${err.fields.map((f) => `  - ${f.field}: ${f.message}`).join('\n')}`;
}
