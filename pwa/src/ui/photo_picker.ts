// The photo: picked from the device (or handed over by a share), previewed at once.
import { h } from './dom.js';

export interface PhotoPicker {
  el: HTMLElement;
  photo(): File | null;
  set(file: File | null): void;
}

/** `onChange` hears every new photo (or null), picked or shared. */
export function photoPicker(onChange: (file: File | null) => void = () => undefined): PhotoPicker {
  let current: File | null = null;
  let url = '';
  const input = h('input', {
    type: 'file',
    accept: 'image/*',
    id: 'photo-input',
    class: 'visually-hidden',
  });
  const preview = h('img', { class: 'preview', alt: '', hidden: true });
  const name = h('p', { class: 'photo-name' }, 'No photo yet.');
  const set = (file: File | null): void => {
    if (url) URL.revokeObjectURL(url);
    current = file;
    url = file ? URL.createObjectURL(file) : '';
    preview.src = url;
    preview.hidden = !file;
    preview.alt = file ? `Preview of ${file.name}` : '';
    name.textContent = file ? file.name : 'No photo yet.';
    onChange(file);
  };
  input.addEventListener('change', () => set(input.files?.[0] ?? null));
  const el = h(
    'div',
    { class: 'photo' },
    input,
    h('label', { for: 'photo-input', class: 'button secondary' }, 'Choose a photo'),
    preview,
    name,
  );
  return { el, photo: () => current, set };
}
