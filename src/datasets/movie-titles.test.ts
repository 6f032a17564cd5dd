import { describe, expect, it } from 'vitest';
import { HashtagSchema } from '../core/schema/fields.js';
import { createdTsOfTitle, genreHashtags, yearOfTitle } from './movie-titles.js';

describe('movie titles', () => {
  it.each([
    ['Toy Story (1995)', 1995],
    ['From Dusk Till Dawn 2: Texas Blood Money (1999) ', 1999],
    ['Léon: The Professional (a.k.a. The Professional) (Léon) (1994)', 1994],
    ['Death Note: Desu nôto (2006–2007)', 2006],
    ['Fawlty Towers (1975-1979)', 1975],
    ['Babylon 5', null],
    ['1984 (1956)', 1956],
  ])('finds the year of %s', (title, year) => {
    expect(yearOfTitle(title)).toBe(year);
  });

  it('dates items on 1 January of their year, and at 0 without a year or before 1970', () => {
    expect(createdTsOfTitle('Toy Story (1995)')).toBe(Date.UTC(1995, 0, 1));
    expect(createdTsOfTitle('Babylon 5')).toBe(0);
    expect(createdTsOfTitle('Casablanca (1942)')).toBe(0);
  });

  it('turns genres into hashtags of the core alphabet', () => {
    expect(genreHashtags(['Sci-Fi', 'Film-Noir', "Children's", 'IMAX', 'Comedy', 'Comedy'])).toEqual([
      'SciFi',
      'FilmNoir',
      'Childrens',
      'IMAX',
      'Comedy',
    ]);
    expect(genreHashtags(['(no genres listed)'])).toEqual([]);
    expect(genreHashtags(['unknown'])).toEqual([]);
    for (const tag of genreHashtags(['Sci-Fi', 'Film-Noir', "Children's", 'Drama']))
      expect(HashtagSchema.safeParse(tag).success).toBe(true);
  });
});
