// The error of bad evaluation input (a missing file, a malformed row, a prompt the model cannot take,
// a tokenizer without what a method needs): the CLI prints its message as one line, exit code 2.
export class EvalInputError extends Error {}
