import { InvalidInputError } from '../domain/index.js';

/** A CLI option's whole number in [min, max]; anything else is refused naming the option. */
export function wholeNumberOption(value: string, name: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new InvalidInputError(
      `--${name} must be a whole number from ${String(min)} to ${String(max)}`,
      name,
    );
  }
  return number;
}
