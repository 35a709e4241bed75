import type { ZipEntry } from './zip-archives.js';

const paragraphs = (topic: string) =>
  [1, 2, 3]
    .map((n) => `<p>${topic}, paragraph ${String(n)}: what I learned shipping retrieval to production.</p>`)
    .join('\n');

/**
 * LinkedIn's "Get a copy of your data" archive, flat as LinkedIn ships it: Shares.csv (three posts, a
 * repost without commentary, an empty row), one published article and one draft, and files that are
 * not imported (Profile.csv, Comments.csv).
 */
export function linkedinExportEntries(): ZipEntry[] {
  const shares = [
    'Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility',
    '2024-05-04 10:22:33,https://www.linkedin.com/feed/update/urn%3Ali%3Aactivity%3A7001,"Retrieval beats memorisation.',
    '',
    'Ground your LLM in your own notes, and say ""I don\'t know"" when they are silent.",,https://media.licdn.com/image/7001.jpg,MEMBER_NETWORK',
    '2024-05-11 08:00:00,https://www.linkedin.com/feed/update/urn%3Ali%3Aactivity%3A7002,"Three lessons from deploying an LLM twin on serverless AWS, with numbers.",,,MEMBER_NETWORK',
    '2024-05-12 09:00:00,https://www.linkedin.com/feed/update/urn%3Ali%3Aactivity%3A7003,,https://example.com/someone-elses-article,,MEMBER_NETWORK',
    '2024-05-13 09:00:00,,,,,',
    '2024-05-20 18:30:00,,"A post without a link of its own: the export does not always give one.",,,MEMBER_NETWORK',
  ].join('\r\n');
  return [
    { name: 'Shares.csv', data: shares },
    { name: 'Profile.csv', data: 'First Name,Last Name\r\nPaul,Iusztin\r\n' },
    {
      name: 'Comments.csv',
      data: 'Date,Link,Message\r\n2024-05-05 10:00:00,https://www.linkedin.com/feed/update/urn%3Ali%3Aactivity%3A9,Nice one!\r\n',
    },
    {
      name: 'Articles/Articles/2024-04-01 09_00_00.0-Serverless LLM twins.html',
      data: `<html><head><title>Serverless LLM twins</title></head><body>
<h1><a href="https://www.linkedin.com/pulse/serverless-llm-twins-paul-iusztin">Serverless LLM twins</a></h1>
<p class="created">Created on 2024-04-01 09:00</p><p class="published">Published on 2024-04-02 10:15</p>
<div>${paragraphs('Serverless twins')}</div></body></html>`,
    },
    {
      name: 'Articles/Articles/2024-04-09 09_00_00.0-Half-written.html',
      data: '<html><body><h1>Half-written</h1><p class="created">Created on 2024-04-09 09:00</p><div><p>TODO</p></div></body></html>',
    },
  ];
}

function mediumPost(title: string, slug: string, options: { draft?: boolean } = {}): string {
  const canonical = options.draft
    ? ''
    : `<p><a href="https://medium.com/@pauliusztin/${slug}" class="p-canonical">Canonical link</a></p>`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body>
<article class="h-entry"><header><h1 class="p-name">${title}</h1></header>
<section data-field="subtitle" class="p-summary">Why ${title.toLowerCase()} matters</section>
<section data-field="body" class="e-content"><section class="section"><div><h3>${title}</h3>${paragraphs(title)}</div></section></section>
<footer><p>By <a href="https://medium.com/@pauliusztin" class="p-author h-card">Paul Iusztin</a> on
<a href="https://medium.com/p/${slug}"><time class="dt-published" datetime="2024-03-05T10:12:00.000Z">March 5, 2024</time></a>.</p>
${canonical}</footer></article></body></html>`;
}

/** Medium's account export: two published stories and a draft under medium-export/posts/, and other folders. */
export function mediumExportEntries(): ZipEntry[] {
  return [
    { name: 'medium-export/README.html', data: '<html><body>Your Medium data</body></html>' },
    { name: 'medium-export/profile/profile.html', data: '<html><body>Paul Iusztin</body></html>' },
    {
      name: 'medium-export/posts/2024-03-05_An-End-to-End-Framework-1a2b3c4d5e6f.html',
      data: mediumPost('An End-to-End Framework', 'an-end-to-end-framework-1a2b3c4d5e6f'),
    },
    {
      name: 'medium-export/posts/2024-03-19_RAG-Evaluation-6f5e4d3c2b1a.html',
      data: mediumPost('RAG Evaluation', 'rag-evaluation-6f5e4d3c2b1a?source=your_stories_page'),
    },
    {
      name: 'medium-export/posts/draft_Notes-on-DPO-0a0b0c0d0e0f.html',
      data: mediumPost('Notes on DPO', 'x', { draft: true }),
    },
  ];
}

/** Substack's export: posts.csv with two published posts, a draft and a discussion thread, and their bodies. */
export function substackExportEntries(): ZipEntry[] {
  const csv = [
    'post_id,post_date,is_published,email_sent_at,inbox_sent_at,type,audience,title,subtitle,podcast_url',
    '140001.the-new-king-of-iac,2024-02-01T08:00:00.000Z,true,2024-02-01T08:00:05.000Z,,newsletter,everyone,"The new king of IaC","Why CDK, and why now",',
    '140002.llm-twin-course,2024-02-15T08:00:00.000Z,true,,,newsletter,everyone,LLM Twin course,,',
    '140003.unfinished,,false,,,newsletter,everyone,Unfinished,,',
    '140004.open-thread-3,2024-02-20T08:00:00.000Z,true,,,thread,everyone,Open thread #3,,',
  ].join('\n');
  return [
    { name: 'posts.csv', data: csv },
    { name: 'posts/140001.the-new-king-of-iac.html', data: paragraphs('Infrastructure as code') },
    { name: 'posts/140002.llm-twin-course.html', data: paragraphs('The course') },
    { name: 'posts/140003.unfinished.html', data: '<p>draft</p>' },
    { name: 'posts/140004.open-thread-3.html', data: '<p>Ask me anything.</p>' },
    { name: 'email_list.csv', data: 'email,active_subscription\nreader@example.com,true\n' },
  ];
}
