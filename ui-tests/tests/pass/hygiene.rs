// The user's own `Result`, `Ok`, `Err`, `Some`, `None`, `Option`, `tokio`, `core`, `__private`,
// `taskgroup` and `__taskgroup_p` items do not break the expansion, which reaches everything through
// `$crate` and `::core`; nor do locals named like the expansion's own.

mod shadowed {
    #![allow(dead_code, non_snake_case, non_upper_case_globals, clippy::all)]

    use ::taskgroup::{ErrorGroup, group};

    mod tokio {}
    mod __private {}
    mod taskgroup {}
    mod __taskgroup_p {}
    mod core {}
    mod std {}
    struct Result;
    struct Option;
    struct Vec;
    struct TaskName;
    fn Ok() {}
    fn Err() {}
    fn Some() {}
    const None: () = ();
    fn run() {}
    fn cons() {}
    fn checked_task() {}
    fn value_slot() {}
    fn take_matching() {}
    trait Future {}
    trait Propagate {}

    async fn fetch(n: u32) -> ::core::result::Result<u32, ::std::io::Error> {
        ::core::result::Result::Ok(n)
    }

    pub(crate) async fn go() -> ::core::result::Result<u32, ErrorGroup> {
        let __taskgroup_v0 = 100;
        let __taskgroup_eg = 200;
        let __taskgroup_fut = 0;
        group! {
            a = fetch(1);
            b = spawn fetch(2);
            c = for n in 0..2 => fetch(n);
            except* ::std::io::Error => (0, 0, ::std::vec::Vec::new()),
        }
        group! {
            d = fetch(__taskgroup_v0 + __taskgroup_eg + __taskgroup_fut);
            except* _ as __taskgroup_rest => return ::core::result::Result::Err(__taskgroup_rest),
        }
        ::core::result::Result::Ok(a + b + c.len() as u32 + d)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(shadowed::go().await.unwrap(), 305);
}
