// The expansion's own locals are hygienic: the user's code cannot name them.

use cohort::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<u32, ErrorGroup> {
    group! {
        a = fetch();
        except* std::io::Error => 0,
    }
    let _ = (__cohort_v0, __cohort_result, __cohort_value, __cohort_fut, __cohort_p::run);
    Ok(a)
}

fn main() {}
