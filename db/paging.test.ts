import { describe, expect, it } from 'vitest';
import { pageWindow } from './paging.ts';

describe('pageWindow', () => {
  it('turns a 1-based page of a size into limit and offset', () => {
    expect(pageWindow({ page: 3, size: 20 })).toEqual({ page: 3, size: 20, limit: 20, offset: 40 });
    expect(pageWindow({})).toEqual({ page: 1, size: 25, limit: 25, offset: 0 });
    expect(pageWindow({}, { defaultSize: 10 })).toMatchObject({ size: 10 });
  });

  it('clamps the page to 1 and the size to 1..maxSize', () => {
    expect(pageWindow({ page: 0, size: 0 })).toEqual({ page: 1, size: 1, limit: 1, offset: 0 });
    expect(pageWindow({ page: -4, size: 5000 })).toMatchObject({ page: 1, size: 1000 });
    expect(pageWindow({ size: 500 }, { maxSize: 100 })).toMatchObject({ size: 100 });
    expect(pageWindow({ page: 2.7, size: 10.9 })).toEqual({ page: 2, size: 10, limit: 10, offset: 10 });
  });
});
