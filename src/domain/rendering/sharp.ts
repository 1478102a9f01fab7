/**
 * The one place the project imports sharp. `./font-env.js` is imported first for its side effect: ESM evaluates a
 * module's imports in order, so fontconfig's environment is set before libvips loads (see font-env.ts). Every
 * module that needs sharp imports it from here.
 */
import './font-env.js';
import sharp from 'sharp';

export default sharp;
export { sharp };
