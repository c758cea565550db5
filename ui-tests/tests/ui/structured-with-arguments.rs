use cohort::structured;

#[structured(strict)]
async fn f() {}

fn main() {}
