import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** `dist/board`, seen from server/ (vitest runs the sources) or from dist/server (the compiled hub). */
export const BOARD_DIR = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../dist/board/' : '../board/', import.meta.url),
);

// The board reaches the hub only through /graphql on the same origin: nothing else may load or run.
const CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The operations board at /board, built by `npm run build` (vite) into dist/board. Without a build the
 * path answers 503 saying so, and the hub serves everything else as usual.
 */
export async function registerBoard(app: FastifyInstance, dir = BOARD_DIR): Promise<void> {
  if (!existsSync(join(dir, 'index.html'))) {
    const notBuilt = async (_request: FastifyRequest, reply: FastifyReply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The board is not built: run `npm run build`, then restart the hub.\n');
    app.get('/board', notBuilt);
    app.get('/board/*', notBuilt);
    return;
  }
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-content-type-options', 'nosniff');
    });
    // The page's relative paths resolve under /board/.
    scope.get('/board', (_request, reply) => reply.redirect('/board/'));
    await scope.register(fastifyStatic, {
      root: dir,
      prefix: '/board/',
      // Hashed asset names may be kept for long; the page itself is checked each time.
      setHeaders: (reply, path) => {
        reply.header(
          'cache-control',
          path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
        );
      },
    });
  });
}
