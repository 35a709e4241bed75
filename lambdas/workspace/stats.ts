import { CATEGORIES, fullNameOf, type Category } from '../domain/index.js';
import type { FeatureCounts, FeatureStore } from '../features/feature-store.js';
import type { Warehouse } from '../ports/warehouse.js';

export interface AuthorCounts {
  id: string;
  name: string;
  /** Raw documents in the warehouse. */
  warehouse: Record<Category, number>;
  /** Cleaned documents and embedded chunks in the feature store. */
  features: FeatureCounts;
}

export interface WorkspaceStats {
  authors: AuthorCounts[];
}

/** What the warehouse and the feature store hold, per author and category. */
export async function workspaceStats(warehouse: Warehouse, features: FeatureStore): Promise<WorkspaceStats> {
  const [users, stats] = await Promise.all([warehouse.listUsers(), warehouse.stats()]);
  const authors = await Promise.all(
    users.map(async (user): Promise<AuthorCounts> => {
      const name = fullNameOf(user);
      const counts = {} as Record<Category, number>;
      for (const category of CATEGORIES) counts[category] = stats.categories[category].byAuthor[name] ?? 0;
      return {
        id: user.id,
        name,
        warehouse: counts,
        features: await features.counts({ authorIds: [user.id] }),
      };
    }),
  );
  return { authors };
}
