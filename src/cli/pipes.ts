/**
 * A closed pipe (`intake parse *.eml | head -1`) ends the command quietly with status 0, as it
 * does for cat or grep, instead of an unhandled EPIPE with a stack trace. Other write errors
 * still surface.
 */
export function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
