// File access for the library. In Node this is node:fs itself; the page bundle (scripts/build-web.mjs)
// puts fs.browser.ts in its place: the same functions over an in-memory volume that a page fills from
// fetch, dropped files or OPFS. Library modules import file functions from here, never from node:fs,
// so that everything below the command line also runs in a browser tab.
export {
  appendFileSync, closeSync, createReadStream, existsSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync,
  readFileSync, readlinkSync, readSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
