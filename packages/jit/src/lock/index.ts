// jit-tracker/lock: the lock toolkit, kept here for code that imported it
// from jit-tracker before it became its own package (jit-lock).
export * from 'jit-lock';
