import { describe, expect, it } from 'vitest';
import { hintFor, recognizeBotWall } from '../../lambdas/collection/bot-walls.js';

const page = (html: string, extra: Partial<Parameters<typeof recognizeBotWall>[0]> = {}) => ({
  status: 200,
  url: 'https://blog.example.com/p/post',
  headers: {},
  html,
  ...extra,
});

describe('recognizing bot walls', () => {
  it('does not mistake an article about Cloudflare challenges for one', () => {
    const article = `<html><head><title>How Cloudflare's "Just a moment..." page works</title></head><body>
      <article><h1>Bot checks, explained</h1>
      <p>The interstitial titled "Just a moment..." loads &lt;script src="/cdn-cgi/challenge-platform/h/g"&gt;.</p>
      <p>Verify you are human, it says; a login form with a password field follows on some sites.</p>
      </article></body></html>`;
    expect(recognizeBotWall(page(article))).toBeUndefined();
  });

  it('recognizes the login page a crawler is sent to, unless it asked for one', () => {
    const login = page('<form><input type="password"></form>', {
      url: 'https://www.linkedin.com/authwall?x=1',
    });
    expect(recognizeBotWall(login)?.kind).toBe('login');
    expect(recognizeBotWall(login, { loginExpected: true })).toBeUndefined();
  });

  it('recognizes a DataDome captcha by the script it loads', () => {
    const wall = recognizeBotWall(
      page('<html><body><script src="https://ct.captcha-delivery.com/c.js"></script></body></html>'),
    );
    expect(wall).toEqual({ kind: 'challenge', evidence: 'a bot check (it loads ct.captcha-delivery.com)' });
  });
});

describe('hints for blocked links', () => {
  it('points LinkedIn to its data export and Substack to its export and feed', () => {
    expect(hintFor({ platform: 'linkedin', link: 'https://linkedin.com/in/paul' })).toMatch(
      /Get a copy of your data/u,
    );
    expect(hintFor({ platform: 'substack', link: 'https://decodingml.substack.com/p/x' })).toMatch(
      /--site https:\/\/decodingml\.substack\.com.*https:\/\/decodingml\.substack\.com\/feed/u,
    );
  });
});
