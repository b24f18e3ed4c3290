// The photo the service worker kept from a share (service_worker/share_target.ts), taken once.
import { SHARE_CACHE, SHARED_PHOTO_PATH } from '../../../service_worker/messages.js';

export async function takeSharedPhoto(): Promise<File | null> {
  if (!('caches' in self)) return null;
  const cache = await caches.open(SHARE_CACHE);
  const key = new URL(SHARED_PHOTO_PATH, document.baseURI).href;
  const response = await cache.match(key);
  if (!response) return null;
  const blob = await response.blob();
  await cache.delete(key);
  const name = decodeURIComponent(response.headers.get('X-Cairn-File-Name') ?? 'shared-photo');
  return new File([blob], name, { type: blob.type || response.headers.get('Content-Type') || '' });
}
