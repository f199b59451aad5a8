// Questions and answers: the charge, the streaming answer, its end, refund and the branch.
#include "store/postgres/postgres_store.hpp"

#include "store/conversation_title.hpp"
#include "store/postgres/values.hpp"
#include "util/text.hpp"

namespace chatd::store {

using namespace pg;

namespace {

// Several chatd processes share the database: the asker's row is locked first thing in the
// question's transaction, before any row referring to it is written, so two questions at once
// queue here (rather than deadlock) and the second plans its charge on what the first left.
void lock_user(connection& db, id_t user_id) {
    db.exec("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", {p(user_id)});
}

}  // namespace

started_answer postgres_store::start_question(const question& q, const charge_planner& plan,
                                              const branch_reader& read_branch, std::int64_t now,
                                              const load_check& admit) {
    transaction t(db_);
    lock_user(db_, q.user_id);
    admit_asker(q.user_id, admit, now);
    started_answer out;
    // parent_id 0 asks for a new root: an edit of the conversation's first question.
    const bool new_root = q.parent_id == 0;
    std::optional<id_t> parent = new_root ? std::nullopt : q.parent_id;
    if (q.conversation_id) {
        auto c = db_.exec("SELECT user_id, current_leaf_id, model, deleted_at FROM conversations WHERE id = $1",
                          {p(*q.conversation_id)});
        if (c.rows() == 0 || i64(c, 0, 0) != q.user_id || !c.is_null(0, 3))
            throw app_error("not_found", "no such conversation");
        out.conversation_id = *q.conversation_id;
        out.model = str(c, 0, 2);
        if (!parent && !new_root) parent = opt_i64(c, 0, 1);
        if (parent) {
            auto found = db_.exec("SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2",
                                  {p(*parent), p(out.conversation_id)});
            if (found.rows() == 0) throw app_error("not_found", "parent message not in this conversation");
        }
        if (!q.model.empty() && q.model != out.model) {
            db_.exec("UPDATE conversations SET model = $1 WHERE id = $2", {p(q.model), p(out.conversation_id)});
            out.model = q.model;
        }
        if (q.system_prompt || q.role_id) {
            db_.exec("UPDATE conversations SET system_prompt = COALESCE($1::text, system_prompt), "
                     "role_id = COALESCE($2::bigint, role_id) WHERE id = $3",
                     {p(q.system_prompt), p(q.role_id), p(out.conversation_id)});
        }
    } else {
        if (parent) throw app_error("invalid_params", "parent_id needs conversation_id");
        auto system_prompt = q.system_prompt && !q.system_prompt->empty() ? p(*q.system_prompt) : param{};
        auto c = db_.exec(
            "INSERT INTO conversations (user_id, title, model, role_id, system_prompt, created_at, updated_at, "
            "user_api_key_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            {p(q.user_id), p(title_from(q.content)), p(q.model), p(q.role_id), system_prompt, p(now), p(now),
             p(q.api_key_id)});
        out.conversation_id = i64(c, 0, 0);
        if (q.api_key_id) count_day(now, day_counter::api_questions, 1);
        out.model = q.model;
    }

    auto um = db_.exec(
        "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at) "
        "VALUES ($1, $2, 'user', $3, 'done', $4) RETURNING id",
        {p(out.conversation_id), p(parent), p(q.content), p(now)});
    out.user_message_id = i64(um, 0, 0);
    attach_uploads(out.user_message_id, q.attachments);

    open_answer(q.user_id, out, plan, read_branch, now);
    t.commit();
    return out;
}

started_answer postgres_store::start_regenerate(id_t user_id, id_t assistant_message_id,
                                                const std::optional<std::vector<std::string>>& attachments,
                                                const charge_planner& plan, const branch_reader& read_branch,
                                                std::int64_t now, const load_check& admit) {
    transaction t(db_);
    lock_user(db_, user_id);
    admit_asker(user_id, admit, now);
    auto m = message(assistant_message_id);
    if (!m || m->user_id != user_id || m->role != "assistant" || !m->parent_id)
        throw app_error("not_found", "no such answer");
    if (m->status == "streaming") throw app_error("busy", "that answer is still being written");
    auto c = conversation(m->conversation_id);
    if (!c || c->deleted_at) throw app_error("not_found", "no such conversation");
    started_answer out;
    out.conversation_id = m->conversation_id;
    out.user_message_id = *m->parent_id;
    out.model = c->model;
    if (attachments) {
        db_.exec("DELETE FROM message_attachments WHERE message_id = $1", {p(out.user_message_id)});
        attach_uploads(out.user_message_id, *attachments);
    }
    open_answer(user_id, out, plan, read_branch, now);
    t.commit();
    return out;
}

// Inside the caller's transaction: charges the user and adds the streaming answer to
// out.user_message_id, filling out.message_id and out.system_prompt; then hands the branch
// from out.user_message_id up to `read_branch`.
void postgres_store::open_answer(id_t user_id, started_answer& out, const charge_planner& plan,
                                 const branch_reader& read_branch, std::int64_t now) {
    // The caller has locked the user's row (lock_user): this balance stays the latest until commit.
    const charge cost = plan(balance_of(user_id));

    auto am = db_.exec(
        "INSERT INTO messages (conversation_id, parent_id, role, status, model, charge_trial, charge_paid, "
        "created_at, asked_by_admin, instance) VALUES ($1, $2, 'assistant', 'streaming', $3, $4, $5, $6, "
        "(SELECT is_admin FROM users WHERE id = $7), $8) RETURNING id",
        {p(out.conversation_id), p(out.user_message_id), p(out.model), p(cost.trial), p(cost.paid), p(now),
         p(user_id), p(instance_)});
    out.message_id = i64(am, 0, 0);

    // The charge and the answers-in-flight count in one statement (the row is locked already).
    db_.exec("UPDATE users SET trial_credits = trial_credits - $1, paid_credits = paid_credits - $2, "
             "answers_streaming = answers_streaming + 1 WHERE id = $3",
             {p(cost.trial), p(cost.paid), p(user_id)});
    if (cost.trial + cost.paid > 0) {
        append_ledger(user_id, now, -cost.trial, -cost.paid, "question", "message:" + std::to_string(out.message_id));
    }
    db_.exec("UPDATE conversations SET current_leaf_id = $1, updated_at = $2 WHERE id = $3",
             {p(out.message_id), p(now), p(out.conversation_id)});

    feed_branch(out.conversation_id, out.user_message_id, read_branch);
    auto sp = db_.exec("SELECT system_prompt FROM conversations WHERE id = $1", {p(out.conversation_id)});
    if (sp.rows() > 0) out.system_prompt = str(sp, 0, 0);
    // Last: today's counters are rows every question updates, locked from here to the commit.
    count_day(now, day_counter::questions, 1);
    count_active(now, user_id);
}

// From `leaf_id` back towards the conversation's first message, until `read` has enough.
void postgres_store::feed_branch(id_t conversation_id, id_t leaf_id, const branch_reader& read) {
    std::optional<id_t> cur = leaf_id;
    while (cur) {
        auto r = db_.exec(
            "SELECT parent_id, role, content, status, id FROM messages WHERE id = $1 AND conversation_id = $2",
            {p(*cur), p(conversation_id)});
        if (r.rows() == 0) break;
        cur = opt_i64(r, 0, 0);
        branch_message m{str(r, 0, 1), str(r, 0, 2), str(r, 0, 3), {}};
        if (m.role == "user") m.attachments = attachments_with_text(i64(r, 0, 4));
        if (!read(std::move(m))) break;
    }
}

void postgres_store::save_partial(const std::vector<partial_answer>& answers) {
    // A statement a hundred rows: each row is locked only while its statement runs, never for
    // a transaction of a thousand round trips that an answer's end (finish_answer) waits behind.
    constexpr std::size_t rows_a_statement = 100;
    for (std::size_t from = 0; from < answers.size(); from += rows_a_statement) {
        std::string ids = "{";
        std::vector<std::string> contents, reasonings;
        for (std::size_t i = from; i < std::min(answers.size(), from + rows_a_statement); ++i) {
            ids += (i > from ? "," : "") + std::to_string(answers[i].message_id);
            contents.push_back(answers[i].content);
            reasonings.push_back(answers[i].reasoning);
        }
        db_.exec("UPDATE messages m SET content = v.content, reasoning = v.reasoning "
                 "FROM unnest($1::bigint[], $2::text[], $3::text[]) AS v(id, content, reasoning) "
                 "WHERE m.id = v.id AND m.status = 'streaming'",
                 {ids + "}", text_array(contents.begin(), contents.end()),
                  text_array(reasonings.begin(), reasonings.end())});
    }
}

balance postgres_store::finish_answer(const finished_answer& f, std::int64_t now) {
    transaction t(db_);
    auto m = message(f.message_id);
    if (!m) throw app_error("not_found", "no such message");
    // Only while still streaming: another instance (or the start-up sweep) may finish the same
    // answer at once, and the row lock makes exactly one of them change it and refund.
    auto changed = db_.exec(
        "UPDATE messages SET status = $1, content = $2, refunded = $3, free_reason = $4, error_reason = $5, "
        "error_message = $6, prompt_tokens = $7, completion_tokens = $8, first_token_ms = $9, total_ms = $10, "
        "key_id = $11, finished_at = $12, reasoning = $13, reasoning_ms = $14, reasoning_tokens = $15, "
        "tokens_estimated = $16, upstream_cost = $17, finish_reason = $19 WHERE id = $18 AND status = 'streaming'",
        {p(f.status), p(f.content), p(f.refund), text_or_null(f.free_reason), text_or_null(f.error_reason),
         text_or_null(f.error_message), p(f.prompt_tokens), p(f.completion_tokens), p(f.first_token_ms),
         p(f.total_ms), p(f.key_id), p(now), p(f.reasoning), p(f.reasoning_ms), p(f.reasoning_tokens),
         p(f.tokens_estimated), p(f.upstream_cost), p(f.message_id), text_or_null(f.finish_reason)});
    if (changed.affected() == 0) {
        // Already finished: nothing may be refunded twice.
        t.commit();
        return balance_of(m->user_id);
    }
    const bool refunding = f.refund && (m->charge_trial || m->charge_paid);
    // Never below 0: answers copied from SQLite streaming were never counted.
    db_.exec("UPDATE users SET trial_credits = trial_credits + $1, paid_credits = paid_credits + $2, "
             "answers_streaming = GREATEST(answers_streaming - 1, 0) WHERE id = $3",
             {p(refunding ? m->charge_trial : 0), p(refunding ? m->charge_paid : 0), p(m->user_id)});
    if (refunding) {
        append_ledger(m->user_id, now, m->charge_trial, m->charge_paid,
                      f.free_reason.empty() ? "refund" : "refund_" + f.free_reason,
                      "message:" + std::to_string(f.message_id));
    }
    auto bal = balance_of(m->user_id);
    // Last: the day's counters are rows every answer updates, locked from here to the commit.
    if (f.first_token_ms) count_latency(m->created_at, *f.first_token_ms);
    count_usage(m->created_at, m->model,
                {1, f.prompt_tokens.value_or(0), f.completion_tokens.value_or(0), f.reasoning_tokens.value_or(0),
                 f.upstream_cost, f.refund ? 0 : m->charge_trial + m->charge_paid});
    t.commit();
    return bal;
}

int postgres_store::interrupt_streaming(std::int64_t now) {
    // This instance's answers only (and unmarked ones, copied from SQLite): the others' are
    // still being written, or left to the dead-instance sweep (instances.cpp).
    const std::string why = "the service restarted while this answer was being written";
    return interrupt_streaming_of(instance_, why, now) + interrupt_streaming_of("", why, now);
}

int postgres_store::interrupt_streaming_of(const std::string& instance, const std::string& why, std::int64_t now) {
    auto r = db_.exec("SELECT id FROM messages WHERE status = 'streaming' AND instance = $1 ORDER BY id",
                      {p(instance)});
    int interrupted = 0;
    for (int i = 0; i < r.rows(); ++i) {
        auto m = message(i64(r, i, 0));
        if (!m) continue;
        finished_answer f;
        f.message_id = m->id;
        f.status = "interrupted";
        f.content = m->content;
        f.reasoning = m->reasoning;
        f.refund = true;
        f.error_reason = "interrupted";
        f.error_message = why;
        finish_answer(f, now);
        ++interrupted;
    }
    return interrupted;
}

}  // namespace chatd::store
