// `npm run dev` only: the path the page asks whether a running lab's definition changed since the lab
// started (server/dev.ts answers; site/components/LabChanged.astro asks). GET ?lab=<kind>&labId=<id> →
// { "changed": boolean }.
export const LAB_CHANGED_PATH = '/__atelier/lab-changed';
