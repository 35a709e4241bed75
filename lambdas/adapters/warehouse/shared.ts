import { CATEGORIES, fullNameOf, type PersonName } from '../../domain/index.js';
import type { CategoryStats, WarehouseStats } from '../../ports/warehouse.js';

/** A user could not be created because its requested id already belongs to someone else. */
export class UserIdConflictError extends Error {
  constructor(id: string, name: PersonName) {
    super(`cannot create user ${fullNameOf(name)}: id ${id} already belongs to another user`);
    this.name = 'UserIdConflictError';
  }
}

export function emptyStats(users: number): WarehouseStats {
  const categories = Object.fromEntries(
    CATEGORIES.map((category): [string, CategoryStats] => [category, { total: 0, byAuthor: {} }]),
  ) as WarehouseStats['categories'];
  return { users, categories };
}
