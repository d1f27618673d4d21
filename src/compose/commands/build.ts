// `berth compose build`: refused until berth has an image builder (the build issue); the
// message says what to do meanwhile.

import type { ComposeCommand } from '../cli.js';

export const build: ComposeCommand = {
  spec: {
    path: 'build',
    use: '[OPTIONS] [SERVICE...]',
    about: 'Build or rebuild services (not yet: berth has no image builder)',
    flags: {},
  },
  async run() {
    throw new Error(
      'berth compose build: berth has no image builder yet; build the image elsewhere, load it (berth load), and give the service an "image"',
    );
  },
};
