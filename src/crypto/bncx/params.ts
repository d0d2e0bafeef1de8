/** BNCX parameters (spec §1.1), in a leaf module so the curve and the fast tower share them. */

/** §1.1: |u|, the magnitude of the (negative) BN parameter u = -0x4000000003C012B1. */
export const U_ABS = 0x4000000003c012b1n;
/** §1.1 field prime p = 36u⁴+36u³+24u²+6u+1. */
export const P = 0x2400000008702a0db0bddf647a6366d3243fd6ee18093ee1be6623ef5c1b55b3n;
/** §1.1 group order r = 36u⁴+36u³+18u²+6u+1. */
export const R = 0x2400000008702a0db0bddf647a6366d2c43fd6ee0cc906cebe11c0a636eb1f6dn;
