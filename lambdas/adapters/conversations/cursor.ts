import { z } from 'zod';
import { InvalidInputError } from '../../domain/index.js';

/** Where a page of conversations ended: its last conversation's update time and id. */
export interface ListPosition {
  updatedAt: string;
  id: string;
}

const PositionSchema = z.strictObject({ updatedAt: z.string().min(1), id: z.string().min(1) });

/** An opaque, URL-safe page cursor. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** A cursor from the caller: one this code did not make is a 400 naming the field. */
export function decodeCursor(cursor: string): ListPosition {
  try {
    return PositionSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidInputError('after: not a cursor from an earlier page', 'after');
  }
}
