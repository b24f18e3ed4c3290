// The UI's pure pieces, bundled for ui_logic.spec.ts (window.ui in a blank page).
export { gate, recoveryFor } from '../../pwa/src/ui/app';
export { assetTitle, provenanceRows } from '../../pwa/src/ui/assets';
export { hashtagsOf } from '../../pwa/src/ui/captions_panel';
export { bytes, percent, ms } from '../../pwa/src/ui/format';
export { jobStep } from '../../pwa/src/ui/jobs';
export { fastPreviewOffered } from '../../pwa/src/protocol';
