// Rate limits several instances share: hits counted in rate_hits, pruned as they age.
#include "store/postgres/postgres_store.hpp"

#include "store/postgres/values.hpp"

namespace chatd::store {

using namespace pg;

// The buckets' locks, the counts and the inserts are one function of the schema (migration
// 015): one round trip, while a flood of logins queues on the same bucket.
bool postgres_store::record_hits(const std::vector<std::string>& buckets, int limit, std::int64_t window_ms,
                                 std::int64_t now_ms) {
    auto r = db_.exec("SELECT chatd_record_hits($1, $2, $3, $4)::int",
                      {text_array(buckets.begin(), buckets.end()), p(limit), p(window_ms), p(now_ms)});
    return flag(r, 0, 0);
}

void postgres_store::forget_hit(const std::string& bucket, std::int64_t at_ms) {
    db_.exec("DELETE FROM rate_hits WHERE ctid = (SELECT ctid FROM rate_hits WHERE bucket = $1 AND at = $2 LIMIT 1)",
             {p(bucket), p(at_ms)});
}

void postgres_store::forget_hits(const std::string& bucket) {
    db_.exec("DELETE FROM rate_hits WHERE bucket = $1", {p(bucket)});
}

int postgres_store::prune_hits(std::int64_t before_ms) {
    return static_cast<int>(db_.exec("DELETE FROM rate_hits WHERE at < $1", {p(before_ms)}).affected());
}

// Inside start_*'s transaction, after lock_user: the asker's questions queue on that lock, so
// the counts read here stay true until this one commits. One round trip: this question's hit is
// added by the same statement (which does not see it in its counts), and a refusal rolls it
// back with everything else.
void postgres_store::admit_asker(id_t user_id, const load_check& admit, std::int64_t now) {
    if (!admit) return;
    // users.answers_streaming is kept by open_answer and finish_answer: one row, however many
    // answers the whole site is writing.
    auto r = db_.exec(
        "WITH pruned AS (DELETE FROM rate_hits WHERE bucket = $1 AND at <= $2), "
        "added AS (INSERT INTO rate_hits (bucket, at) VALUES ($1, $4)) "
        "SELECT (SELECT answers_streaming FROM users WHERE id = $3), "
        "       (SELECT count(*) FROM rate_hits WHERE bucket = $1 AND at > $2)",
        {p(questions_bucket(user_id)), p((now - 60) * 1000), p(user_id), p(now * 1000)});
    admit(asker_load{i64(r, 0, 0), i64(r, 0, 1)});
}

}  // namespace chatd::store
