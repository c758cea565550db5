// The expansion's own locals are hygienic: the user's code cannot name them.

use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        a = fetch();
        except* std::io::Error => 0,
    }
    let _ = (__taskgroup_v0, __taskgroup_result, __taskgroup_value, __taskgroup_fut, __taskgroup_p::run);
    Ok(a)
}

fn main() {}
