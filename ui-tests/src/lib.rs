//! No code: the compile-time tests are in `tests/`; see `README.md`.
