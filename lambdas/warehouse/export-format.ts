import type { Category } from '../domain/index.js';

/** File names of a warehouse export, one JSON array per document class, as the book names them. */
export const USERS_FILE = 'UserDocument.json';

export const CATEGORY_FILES: Record<Category, string> = {
  articles: 'ArticleDocument.json',
  posts: 'PostDocument.json',
  repositories: 'RepositoryDocument.json',
};
