/**
 * The README is executable: each curl walkthrough in README.md runs, verbatim
 * and as one script, against the product started as `npm start` starts it
 * (tests/support/product.ts). How the blocks are found and run, and the
 * `→ NNN` convention for expected refusals: tests/support/walkthroughs.ts.
 */
import { useProduct } from '../support/product';
import { describeReadmeWalkthroughs } from '../support/walkthroughs';

const product = useProduct('readme');

describeReadmeWalkthroughs('README walkthroughs run verbatim against the started product', () => product);
