# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""java_lower(text): Java 17's ``text.toLowerCase(Locale.ENGLISH)``, in pure Python (3.8+, standard library only).

JKS, JCEKS and PKCS12 keystores in Java 17 key their entries by ``alias.toLowerCase(Locale.ENGLISH)``
(sun.security.provider.JavaKeyStore.convertAlias, com.sun.crypto.provider.JceKeyStore, PKCS12KeyStore). Python's
``str.lower()`` is not the same function. This module follows the JDK 17 source (17.0.x, src.zip):

* java/lang/String.toLowerCase(Locale) -> StringLatin1.toLowerCase (every char Latin-1: per char
  Character.toLowerCase, no special case can occur) or StringUTF16.toLowerCase / toLowerCaseEx: per code point
  Character.toLowerCase(cp) (the *simple* lowercase mapping of UnicodeData.txt, Unicode 13.0 in JDK 17), except
    - U+0130 (LATIN CAPITAL LETTER I WITH DOT ABOVE) -> "i\u0307" (ConditionalSpecialCasing entry, no condition);
    - U+03A3 (GREEK CAPITAL LETTER SIGMA) -> U+03C2 (final sigma) when ConditionalSpecialCasing.isFinalCased holds,
      otherwise U+03C3.
  The Lithuanian/Turkish/Azeri entries of ConditionalSpecialCasing need the language "lt"/"tr"/"az": never for
  Locale.ENGLISH. Lone surrogates are kept unchanged.
* java/lang/ConditionalSpecialCasing.isFinalCased(src, index, locale): with
  ``BreakIterator.getWordInstance(Locale.ENGLISH)`` on the whole string, walk back from index while
  ``!isBoundary(i)`` looking for a cased code point before the sigma; if one is found, walk forward from index+1
  while ``!isBoundary(i)``: any cased code point there -> not final. "Cased" (isCased): Character.getType is
  Lu/Ll/Lt, or a code point in the hard-coded Other_Lowercase/Other_Uppercase ranges (02B0-02B8, 02C0-02C1,
  02E0-02E4, 0345, 037A, 1D2C-1D61, 2160-217F, 24B6-24E9).
  This is NOT Unicode's Final_Sigma (case-ignorable characters) that Python's str.lower() implements: Java looks at
  *words*, so "backend-\u03a3" ends in U+03C2 in Java (the dash is word-internal) and U+03C3 in Python.
* The word BreakIterator is sun.text.RuleBasedBreakIterator with the JDK's compiled "WordBreakRules"
  (src/java.base/share/classes/sun/text/resources/BreakIteratorRules.java, compiled at build time into
  sun/text/resources/WordBreakIteratorData). isBoundary(o) is ``o == 0 or following(o - 1) == o``;
  following() resynchronises with handlePrevious() (the backwards table) unless its cachedLastKnownBreak is
  usable, then calls handleNext() (the forward table) until past the offset. This module runs the same
  algorithm on the same tables (_FORWARD, _BACKWARD: extracted from JDK 17.0.15 with java/DumpBreak.java),
  over UTF-16 code units like Java, including the quirk that a U+FFFF in the text reads as
  CharacterIterator.DONE (the end of the text).
* Character categories for the break tables (22 categories, -1 = ignored) are derived from the rules
  (<letter-base>=[:L::Mc:] minus kana/kanji, <enclosing>=[:Mn::Me:], <digit-base>=[:N:], <mid-word>, <mid-num>,
  <pre-num>, <post-num>, <ws-base>, <ls>, <danda>, ...) over Unicode general categories from ``unicodedata``,
  corrected by _OVERRIDES wherever this Python's Unicode version (3.8: 12.1; 3.9/3.10: 13.0 like Java 17; 3.11: 14.0;
  3.12: 15.0; 3.13: 15.1) or the JDK's compiled data (unassigned gaps inside supplementary letter blocks count as
  letters; the last code point of each supplementary Cf range is category 0) says otherwise.
* Lower-case mappings come from _LOWER_RUNS, Java 17's Character.toLowerCase for all 1,114,112 code points
  (1,393 mapped), so they do not depend on this Python's Unicode version: Python 3.8 lacks U+A7C7/A7C9/A7F5
  (new in Unicode 13), Python 3.11+ lowercases 40 code points Java 17 does not (new in Unicode 14: U+2C2F,
  U+A7C0, U+A7D0, U+A7D6, U+A7D8, Vithkuqi U+10570-10595).

The tables were extracted from JDK 17.0.15 (Character.toLowerCase for every code point, the compiled word-break
tables); tests/interop/test_alias_case.py holds this module to a JVM's answers on every code point and on random
strings. Imported only for an alias that is not ASCII (for ASCII, Java and str.lower() agree).
"""

import bisect
import unicodedata

# --- tables extracted from JDK 17.0.15 --------------------------------------------------------------------
# BEGIN GENERATED
# Java 17 Character.toLowerCase, as (first code point, count, step, delta): 177 runs
_LOWER_RUNS = (
    (0x0041, 26, 1, 32), (0x00C0, 23, 1, 32), (0x00D8, 7, 1, 32), (0x0100, 24, 2, 1),
    (0x0130, 1, 1, -199), (0x0132, 3, 2, 1), (0x0139, 8, 2, 1), (0x014A, 23, 2, 1),
    (0x0178, 1, 1, -121), (0x0179, 3, 2, 1), (0x0181, 1, 1, 210), (0x0182, 2, 2, 1),
    (0x0186, 1, 1, 206), (0x0187, 1, 1, 1), (0x0189, 2, 1, 205), (0x018B, 1, 1, 1),
    (0x018E, 1, 1, 79), (0x018F, 1, 1, 202), (0x0190, 1, 1, 203), (0x0191, 1, 1, 1),
    (0x0193, 1, 1, 205), (0x0194, 1, 1, 207), (0x0196, 1, 1, 211), (0x0197, 1, 1, 209),
    (0x0198, 1, 1, 1), (0x019C, 1, 1, 211), (0x019D, 1, 1, 213), (0x019F, 1, 1, 214),
    (0x01A0, 3, 2, 1), (0x01A6, 1, 1, 218), (0x01A7, 1, 1, 1), (0x01A9, 1, 1, 218),
    (0x01AC, 1, 1, 1), (0x01AE, 1, 1, 218), (0x01AF, 1, 1, 1), (0x01B1, 2, 1, 217),
    (0x01B3, 2, 2, 1), (0x01B7, 1, 1, 219), (0x01B8, 1, 1, 1), (0x01BC, 1, 1, 1),
    (0x01C4, 1, 1, 2), (0x01C5, 1, 1, 1), (0x01C7, 1, 1, 2), (0x01C8, 1, 1, 1),
    (0x01CA, 1, 1, 2), (0x01CB, 9, 2, 1), (0x01DE, 9, 2, 1), (0x01F1, 1, 1, 2),
    (0x01F2, 2, 2, 1), (0x01F6, 1, 1, -97), (0x01F7, 1, 1, -56), (0x01F8, 20, 2, 1),
    (0x0220, 1, 1, -130), (0x0222, 9, 2, 1), (0x023A, 1, 1, 10795), (0x023B, 1, 1, 1),
    (0x023D, 1, 1, -163), (0x023E, 1, 1, 10792), (0x0241, 1, 1, 1), (0x0243, 1, 1, -195),
    (0x0244, 1, 1, 69), (0x0245, 1, 1, 71), (0x0246, 5, 2, 1), (0x0370, 2, 2, 1),
    (0x0376, 1, 1, 1), (0x037F, 1, 1, 116), (0x0386, 1, 1, 38), (0x0388, 3, 1, 37),
    (0x038C, 1, 1, 64), (0x038E, 2, 1, 63), (0x0391, 17, 1, 32), (0x03A3, 9, 1, 32),
    (0x03CF, 1, 1, 8), (0x03D8, 12, 2, 1), (0x03F4, 1, 1, -60), (0x03F7, 1, 1, 1),
    (0x03F9, 1, 1, -7), (0x03FA, 1, 1, 1), (0x03FD, 3, 1, -130), (0x0400, 16, 1, 80),
    (0x0410, 32, 1, 32), (0x0460, 17, 2, 1), (0x048A, 27, 2, 1), (0x04C0, 1, 1, 15),
    (0x04C1, 7, 2, 1), (0x04D0, 48, 2, 1), (0x0531, 38, 1, 48), (0x10A0, 38, 1, 7264),
    (0x10C7, 1, 1, 7264), (0x10CD, 1, 1, 7264), (0x13A0, 80, 1, 38864), (0x13F0, 6, 1, 8),
    (0x1C90, 43, 1, -3008), (0x1CBD, 3, 1, -3008), (0x1E00, 75, 2, 1), (0x1E9E, 1, 1, -7615),
    (0x1EA0, 48, 2, 1), (0x1F08, 8, 1, -8), (0x1F18, 6, 1, -8), (0x1F28, 8, 1, -8),
    (0x1F38, 8, 1, -8), (0x1F48, 6, 1, -8), (0x1F59, 4, 2, -8), (0x1F68, 8, 1, -8),
    (0x1F88, 8, 1, -8), (0x1F98, 8, 1, -8), (0x1FA8, 8, 1, -8), (0x1FB8, 2, 1, -8),
    (0x1FBA, 2, 1, -74), (0x1FBC, 1, 1, -9), (0x1FC8, 4, 1, -86), (0x1FCC, 1, 1, -9),
    (0x1FD8, 2, 1, -8), (0x1FDA, 2, 1, -100), (0x1FE8, 2, 1, -8), (0x1FEA, 2, 1, -112),
    (0x1FEC, 1, 1, -7), (0x1FF8, 2, 1, -128), (0x1FFA, 2, 1, -126), (0x1FFC, 1, 1, -9),
    (0x2126, 1, 1, -7517), (0x212A, 1, 1, -8383), (0x212B, 1, 1, -8262), (0x2132, 1, 1, 28),
    (0x2160, 16, 1, 16), (0x2183, 1, 1, 1), (0x24B6, 26, 1, 26), (0x2C00, 47, 1, 48),
    (0x2C60, 1, 1, 1), (0x2C62, 1, 1, -10743), (0x2C63, 1, 1, -3814), (0x2C64, 1, 1, -10727),
    (0x2C67, 3, 2, 1), (0x2C6D, 1, 1, -10780), (0x2C6E, 1, 1, -10749), (0x2C6F, 1, 1, -10783),
    (0x2C70, 1, 1, -10782), (0x2C72, 1, 1, 1), (0x2C75, 1, 1, 1), (0x2C7E, 2, 1, -10815),
    (0x2C80, 50, 2, 1), (0x2CEB, 2, 2, 1), (0x2CF2, 1, 1, 1), (0xA640, 23, 2, 1),
    (0xA680, 14, 2, 1), (0xA722, 7, 2, 1), (0xA732, 31, 2, 1), (0xA779, 2, 2, 1),
    (0xA77D, 1, 1, -35332), (0xA77E, 5, 2, 1), (0xA78B, 1, 1, 1), (0xA78D, 1, 1, -42280),
    (0xA790, 2, 2, 1), (0xA796, 10, 2, 1), (0xA7AA, 1, 1, -42308), (0xA7AB, 1, 1, -42319),
    (0xA7AC, 1, 1, -42315), (0xA7AD, 1, 1, -42305), (0xA7AE, 1, 1, -42308), (0xA7B0, 1, 1, -42258),
    (0xA7B1, 1, 1, -42282), (0xA7B2, 1, 1, -42261), (0xA7B3, 1, 1, 928), (0xA7B4, 6, 2, 1),
    (0xA7C2, 1, 1, 1), (0xA7C4, 1, 1, -48), (0xA7C5, 1, 1, -42307), (0xA7C6, 1, 1, -35384),
    (0xA7C7, 2, 2, 1), (0xA7F5, 1, 1, 1), (0xFF21, 26, 1, 32), (0x10400, 40, 1, 40),
    (0x104B0, 36, 1, 40), (0x10C80, 51, 1, 64), (0x118A0, 32, 1, 32), (0x16E40, 32, 1, 32),
    (0x1E900, 34, 1, 34),
)
# sun/text/resources/WordBreakIteratorData of JDK 17: forward state table [state][category]
_FORWARD = (
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (2, 12, 14, 15, 3, 16, 16, 9, 16, 14, 17, 2, 6, 8, 18, 19, 2, 8, 2, 16, 16, 16),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 3, 4, 0, 3, 5, 0, 0, 4, 0, 0, 3, 6, 0, 0, 0, 0, 0, 4, 0, 0, 4),
    (0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 6, 7, 0, 3, 0, 2, 0, 7, 0, 0, 6, 6, 0, 0, 0, 0, 0, 0, 7, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 8, 0, 0, 0, 0, 0, 9, 0, 0, 0, 8, 0, 8, 0, 0, 2, 8, 0, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0),
    (0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0),
    (0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 11, 0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0),
    (0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 11, 10, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 16, 0, 13, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 17, 0, 0, 0, 0, 0, 0, 0, 0, 12, 16, 0, 0, 11, 10, 0, 0, 0, 0, 0, 0),
    (0, 18, 0, 0, 0, 0, 0, 0, 0, 0, 11, 16, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0),
    (0, 19, 0, 0, 0, 0, 0, 0, 0, 0, 10, 16, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0),
)
# ... and backwards state table (handlePrevious)
_BACKWARD = (
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (2, 3, 4, 5, 6, 7, 8, 9, 4, 2, 10, 3, 11, 9, 12, 13, 14, 9, 7, 8, 2, 7),
    (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 3, 4, 5, 6, 7, 8, 0, 4, 2, 10, 3, 11, 9, 12, 13, 0, 9, 0, 8, 2, 7),
    (0, 3, 0, 0, 6, 0, 0, 0, 0, 0, 0, 3, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 3, 4, 0, 6, 0, 0, 0, 4, 0, 0, 3, 11, 0, 0, 0, 0, 0, 7, 0, 0, 7),
    (0, 3, 0, 0, 6, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    (0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 9, 0, 0, 0, 9, 0, 0, 0, 0),
    (0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 12, 13, 0, 0, 0, 0, 0, 0),
    (0, 3, 4, 0, 6, 7, 0, 0, 4, 2, 0, 3, 11, 0, 0, 0, 0, 0, 0, 8, 0, 0),
    (0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0),
    (0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 13, 0, 0, 0, 0, 0, 0),
    (0, 3, 0, 0, 0, 0, 0, 9, 0, 0, 0, 3, 0, 9, 0, 0, 0, 9, 0, 0, 0, 0),
)
_END_STATES = frozenset((1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19))
# Code point ranges where Java 17 (Unicode 13.0 and its compiled break data) differs from unicodedata of
# Python 3.8-3.13: first code points, and (last, break category, Lu/Ll/Lt?) of each range. 129 ranges.
_OVERRIDE_STARTS = (
    0x0870, 0x0889, 0x0890, 0x0898, 0x08B5, 0x08BE, 0x08C8, 0x0B55, 0x0C3C, 0x0C5D,
    0x0CDD, 0x0CF3, 0x0D04, 0x0D81, 0x0ECE, 0x170D, 0x1715, 0x171F, 0x1734, 0x180F,
    0x1ABF, 0x1AC1, 0x1B4C, 0x1DFA, 0x20C0, 0x2C2F, 0x2C5F, 0x2E5D, 0x31BB, 0x4DB6,
    0x9FF0, 0x9FFD, 0xA7C0, 0xA7C7, 0xA7D0, 0xA7D3, 0xA7D5, 0xA7F2, 0xA7F5, 0xA82C,
    0xAB68, 0xAB69, 0x10570, 0x1057C, 0x1058C, 0x10594, 0x10597, 0x105A3, 0x105B3, 0x105BB,
    0x10780, 0x10787, 0x107B2, 0x10E80, 0x10EAB, 0x10EAD, 0x10EB0, 0x10EFD, 0x10F70, 0x10FB0,
    0x10FC5, 0x11070, 0x110BD, 0x110C2, 0x110CD, 0x11147, 0x111CE, 0x111CF, 0x1123F, 0x11460,
    0x11740, 0x11900, 0x11909, 0x1190C, 0x11915, 0x11918, 0x11937, 0x1193B, 0x1193D, 0x1193E,
    0x1193F, 0x11943, 0x11950, 0x11AB0, 0x11F00, 0x11F12, 0x11F3E, 0x11F50, 0x11FB0, 0x12F90,
    0x1342F, 0x13438, 0x13439, 0x16A70, 0x16AC0, 0x16FE4, 0x16FF0, 0x18AF3, 0x1AFF0, 0x1AFF5,
    0x1AFFD, 0x1B11F, 0x1B132, 0x1B155, 0x1BCA3, 0x1CF00, 0x1CF30, 0x1D17A, 0x1D2C0, 0x1DF00,
    0x1DF25, 0x1E030, 0x1E08F, 0x1E290, 0x1E4D0, 0x1E7E0, 0x1E7E8, 0x1E7ED, 0x1E7F0, 0x1FBF0,
    0x2A6D7, 0x2B735, 0x2B81E, 0x2CEA2, 0x2EBF0, 0x2FA1E, 0x31350, 0xE0001, 0xE007F,
)
_OVERRIDE_VALUES = (
    (0x0887, 20, False), (0x088E, 20, False), (0x0891, 20, False), (0x089F, 20, False), (0x08B5, 20, False),
    (0x08C7, 4, False), (0x08D2, 20, False), (0x0B55, 11, False), (0x0C3C, 20, False), (0x0C5D, 20, False),
    (0x0CDD, 20, False), (0x0CF3, 20, False), (0x0D04, 4, False), (0x0D81, 11, False), (0x0ECE, 20, False),
    (0x170D, 20, False), (0x1715, 20, False), (0x171F, 20, False), (0x1734, 11, False), (0x180F, 20, False),
    (0x1AC0, 11, False), (0x1ACE, 20, False), (0x1B4C, 20, False), (0x1DFA, 20, False), (0x20C0, 20, False),
    (0x2C2F, 20, False), (0x2C5F, 20, False), (0x2E5D, 20, False), (0x31BF, 4, False), (0x4DBF, 4, False),
    (0x9FFC, 4, False), (0x9FFF, 20, False), (0xA7C1, 20, False), (0xA7CA, 4, True), (0xA7D1, 20, False),
    (0xA7D3, 20, False), (0xA7D9, 20, False), (0xA7F4, 20, False), (0xA7F6, 4, True), (0xA82C, 11, False),
    (0xAB68, 4, True), (0xAB69, 4, False), (0x1057A, 20, False), (0x1058A, 20, False), (0x10592, 20, False),
    (0x10595, 20, False), (0x105A1, 20, False), (0x105B1, 20, False), (0x105B9, 20, False), (0x105BC, 20, False),
    (0x10785, 20, False), (0x107B0, 20, False), (0x107BA, 20, False), (0x10EA9, 4, False), (0x10EAC, 11, False),
    (0x10EAD, 21, False), (0x10EB1, 4, False), (0x10EFF, 20, False), (0x10F85, 20, False), (0x10FC4, 4, False),
    (0x10FCB, 12, False), (0x11075, 20, False), (0x110BD, 0, False), (0x110C2, 20, False), (0x110CD, 0, False),
    (0x11147, 4, False), (0x111CE, 4, False), (0x111CF, 11, False), (0x11241, 20, False), (0x11461, 4, False),
    (0x11746, 20, False), (0x11906, 4, False), (0x11909, 4, False), (0x11913, 4, False), (0x11916, 4, False),
    (0x11935, 4, False), (0x11938, 4, False), (0x1193C, 11, False), (0x1193D, 4, False), (0x1193E, 11, False),
    (0x11942, 4, False), (0x11943, 11, False), (0x11959, 12, False), (0x11ABF, 20, False), (0x11F10, 20, False),
    (0x11F3A, 20, False), (0x11F42, 20, False), (0x11F59, 20, False), (0x11FB0, 4, False), (0x12FF0, 20, False),
    (0x1342F, 20, False), (0x13438, 0, False), (0x13455, 20, False), (0x16ABE, 20, False), (0x16AC9, 20, False),
    (0x16FE4, 11, False), (0x16FF1, 4, False), (0x18D08, 4, False), (0x1AFF3, 20, False), (0x1AFFB, 20, False),
    (0x1AFFE, 20, False), (0x1B122, 20, False), (0x1B132, 20, False), (0x1B155, 20, False), (0x1BCA3, 0, False),
    (0x1CF2D, 20, False), (0x1CF46, 20, False), (0x1D17A, 0, False), (0x1D2D3, 20, False), (0x1DF1E, 20, False),
    (0x1DF2A, 20, False), (0x1E06D, 20, False), (0x1E08F, 20, False), (0x1E2AE, 20, False), (0x1E4F9, 20, False),
    (0x1E7E6, 20, False), (0x1E7EB, 20, False), (0x1E7EE, 20, False), (0x1E7FE, 20, False), (0x1FBF9, 12, False),
    (0x2A6FF, 4, False), (0x2B73F, 4, False), (0x2B81F, 4, False), (0x2CEAF, 4, False), (0x2EE5D, 20, False),
    (0x3134A, 4, False), (0x323AF, 20, False), (0xE0001, 0, False), (0xE007F, 0, False),
)
# END GENERATED

_IGNORE = -1
_START, _STOP = 1, 0
_DONE = 0xFFFF  # java.text.CharacterIterator.DONE

# <...> sets of WordBreakRules given by code point (everything else is by general category).
_SPECIAL = {
    0x3099: 1, 0x309A: 1,                      # Mn that are also <cjk-diacrit>
    0x002E: 2,                                 # '.': <mid-word>, <mid-num>, <pre-num>
    0x3005: 3,                                 # <kanji>
    0x0964: 5, 0x0965: 5,                      # <danda>
    0x0025: 6, 0x0026: 6, 0x00A2: 6, 0x066A: 6, 0x2030: 6, 0x2031: 6,   # <post-num>
    0x000D: 7,                                 # \r
    0x0022: 8, 0x0027: 8,                      # '"' and "'": <mid-word>, <mid-num>
    0x0023: 9,                                 # '#': <pre-num> (with [:Sc:] but U+00A2)
    0x309B: 10, 0x309C: 10, 0x30FB: 10, 0x30FC: 10,                      # <cjk-diacrit>
    0x309D: 14, 0x309E: 14,                    # <hira>
    0x30FD: 15, 0x30FE: 15,                    # <kata>
    0x000A: 16, 0x000C: 16, 0x2028: 16, 0x2029: 16,                      # <ls>
    0x0009: 17,                                # tab: <ws-base>
    0x00AD: 18,                                # soft hyphen: <mid-word>, not ignored
    0x002C: 19, 0x066B: 19,                    # <mid-num> only
    0x2027: 21,                                # <mid-word> (with [:Pd::Pc:])
}
_BY_CATEGORY = {
    "Sc": 9, "Pd": 21, "Pc": 21, "Cf": _IGNORE, "Mn": 11, "Me": 11, "Nd": 12, "Nl": 12, "No": 12, "Zs": 13,
    "Lu": 4, "Ll": 4, "Lt": 4, "Lm": 4, "Lo": 4, "Mc": 4, "Cc": 0, "Zl": 0, "Zp": 0,
}
_OTHER_CASED = ((0x02B0, 0x02B8), (0x02C0, 0x02C1), (0x02E0, 0x02E4), (0x0345, 0x0345), (0x037A, 0x037A),
                (0x1D2C, 0x1D61), (0x2160, 0x217F), (0x24B6, 0x24E9))


def _python_properties(cp):
    """(break category, Lu/Ll/Lt?) from this Python's unicodedata, without _OVERRIDES."""
    category = unicodedata.category(chr(cp))
    special = _SPECIAL.get(cp)
    if special is not None:
        brk = special
    elif 0x4E00 <= cp <= 0x9FA5 or 0xF900 <= cp <= 0xFA2D:
        brk = 3
    elif 0x3041 <= cp <= 0x3094:
        brk = 14
    elif 0x30A1 <= cp <= 0x30FA:
        brk = 15
    else:
        brk = _BY_CATEGORY.get(category, 20)
    return brk, category in ("Lu", "Ll", "Lt")


def _properties(cp):
    """Java 17's (break category, Character.getType in Lu/Ll/Lt) of a code point."""
    at = bisect.bisect_right(_OVERRIDE_STARTS, cp) - 1
    if at >= 0:
        end, brk, cased = _OVERRIDE_VALUES[at]
        if cp <= end:
            return brk, cased
    return _python_properties(cp)


def _is_cased(cp):
    if _properties(cp)[1]:
        return True
    for low, high in _OTHER_CASED:
        if low <= cp <= high:
            return True
    return False


_LOWER = None


def _lower_map():
    global _LOWER  # pylint: disable=global-statement
    if _LOWER is None:
        table = {}
        for start, count, step, delta in _LOWER_RUNS:
            for cp in range(start, start + count * step, step):
                table[cp] = cp + delta
        _LOWER = table
    return _LOWER


# --- UTF-16 helpers, as java.lang.String sees the text ------------------------------------------------------

def _utf16(text):
    data = text.encode("utf-16-be", "surrogatepass")
    return [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]


def _is_high(unit):
    return 0xD800 <= unit <= 0xDBFF


def _is_low(unit):
    return 0xDC00 <= unit <= 0xDFFF


def _code_point_at(units, index):
    unit = units[index]
    if _is_high(unit) and index + 1 < len(units) and _is_low(units[index + 1]):
        return 0x10000 + ((unit - 0xD800) << 10) + (units[index + 1] - 0xDC00)
    return unit


def _code_point_before(units, index):
    unit = units[index - 1]
    if _is_low(unit) and index - 2 >= 0 and _is_high(units[index - 2]):
        return 0x10000 + ((units[index - 2] - 0xD800) << 10) + (unit - 0xDC00)
    return unit


def _char_count(cp):
    return 2 if cp >= 0x10000 else 1


# --- sun.text.RuleBasedBreakIterator over java.text.StringCharacterIterator ----------------------------------

class _WordBreaker:
    """The parts of RuleBasedBreakIterator that isBoundary() runs, on one string (a fresh iterator each time,
    as isFinalCased creates one per call)."""

    def __init__(self, units):
        self.units = units
        self.end = len(units)
        self.index = 0
        self.cached = -1  # cachedLastKnownBreak = BreakIterator.DONE

    # StringCharacterIterator
    def _current_unit(self):
        return self.units[self.index] if self.index < self.end else _DONE

    def _next_unit(self):
        if self.index < self.end - 1:
            self.index += 1
            return self.units[self.index]
        self.index = self.end
        return _DONE

    def _previous_unit(self):
        if self.index > 0:
            self.index -= 1
            return self.units[self.index]
        return _DONE

    # RuleBasedBreakIterator.getCurrent/getNext/getPrevious/getNextIndex
    def _current_count(self):
        c1 = self._current_unit()
        if _is_high(c1) and self.index < self.end:
            c2 = self._next_unit()
            self._previous_unit()
            if _is_low(c2):
                return 2
        return 1

    def _get_current(self):
        c1 = self._current_unit()
        if _is_high(c1) and self.index < self.end:
            c2 = self._next_unit()
            self._previous_unit()
            if _is_low(c2):
                return 0x10000 + ((c1 - 0xD800) << 10) + (c2 - 0xDC00)
        return c1

    def _get_next(self):
        index = self.index
        if index == self.end:
            return _DONE
        index += self._current_count()
        if index >= self.end:
            return _DONE
        self.index = index
        return self._get_current()

    def _get_previous(self):
        c2 = self._previous_unit()
        if _is_low(c2) and self.index > 0:
            c1 = self._previous_unit()
            if _is_high(c1):
                return 0x10000 + ((c1 - 0xD800) << 10) + (c2 - 0xDC00)
            self._next_unit()
        return c2

    def _get_next_index(self):
        return min(self.index + self._current_count(), self.end)

    def _handle_next(self):
        if self.index == self.end:
            return -1
        result = self._get_next_index()
        state = _START
        c = self._get_current()
        while c != _DONE and state != _STOP:
            category = _properties(c)[0]
            if category != _IGNORE:
                state = _FORWARD[state][category]
            if state in _END_STATES:  # the word rules have no lookahead states
                result = self._get_next_index()
            c = self._get_next()
        self.index = result
        return result

    def _handle_previous(self):
        state = _START
        category = last_category = 0
        c = self._get_current()
        while c != _DONE and state != _STOP:
            last_category = category
            category = _properties(c)[0]
            if category != _IGNORE:
                state = _BACKWARD[state][category]
            c = self._get_previous()
        if c != _DONE:
            if last_category != _IGNORE:
                self._get_next()
                self._get_next()
            else:
                self._get_next()
        return self.index

    def following(self, offset):
        self.index = offset
        if offset == 0:
            self.cached = self._handle_next()
            return self.cached
        result = self.cached
        if result >= offset or result <= -1:
            result = self._handle_previous()
        else:
            self.index = result
        while result != -1 and result <= offset:
            result = self._handle_next()
        self.cached = result
        return result

    def is_boundary(self, offset):
        return offset == 0 or self.following(offset - 1) == offset


def _is_final_cased(units, index):
    """java.lang.ConditionalSpecialCasing.isFinalCased(src, index, Locale.ENGLISH)."""
    breaker = _WordBreaker(units)
    i = index
    while i >= 0 and not breaker.is_boundary(i):
        ch = _code_point_before(units, i)
        if _is_cased(ch):
            length = len(units)
            i = index + _char_count(_code_point_at(units, index))
            while i < length and not breaker.is_boundary(i):
                ch = _code_point_at(units, i)
                if _is_cased(ch):
                    return False
                i += _char_count(ch)
            return True
        i -= _char_count(ch)
    return False


def java_lower(text):
    """``text.toLowerCase(Locale.ENGLISH)`` as Java 17 computes it."""
    if text.isascii():
        return text.lower()  # StringLatin1: ASCII A-Z -> a-z, like Python
    lower = _lower_map()
    units = _utf16(text)
    out = []
    i, length = 0, len(units)
    while i < length:
        cp = _code_point_at(units, i)
        if cp == 0x03A3:
            out.append(0x03C2 if _is_final_cased(units, i) else 0x03C3)
        elif cp == 0x0130:
            out.extend((0x0069, 0x0307))
        else:
            out.append(lower.get(cp, cp))
        i += _char_count(cp)
    return "".join(map(chr, out))
