// The Web Share Target (app.webmanifest's share_target): a photo shared from the gallery is
// POSTed here as multipart/form-data. The service worker keeps the file in Cache Storage and
// redirects to the compose screen, which takes it from there (pwa/src/ui/share_inbox.ts).
import { SHARE_CACHE, SHARE_FILE_FIELD, SHARED_PHOTO_PATH } from './messages.js';

declare const self: ServiceWorkerGlobalScope;

export async function handleShare(request: Request): Promise<Response> {
  const scope = self.registration.scope;
  let file: FormDataEntryValue | null = null;
  try {
    const form = await request.formData();
    file = form.getAll(SHARE_FILE_FIELD).find((v) => v instanceof File && v.size > 0) ?? null;
  } catch {
    // not multipart: fall through to compose without a photo
  }
  if (file instanceof File) {
    const cache = await caches.open(SHARE_CACHE);
    await cache.put(
      new URL(SHARED_PHOTO_PATH, scope).href,
      new Response(file, {
        headers: {
          'Content-Type': file.type || 'application/octet-stream',
          'X-Cairn-File-Name': encodeURIComponent(file.name),
        },
      }),
    );
  }
  const target = new URL(file ? './#/compose?shared=1' : './#/compose', scope).href;
  return Response.redirect(target, 303);
}
