// Questions and answers: the charge, the streaming answer, its end, refund and the branch.
#include "store/sqlite/sqlite_store.hpp"

#include "store/conversation_title.hpp"
#include "util/text.hpp"

namespace chatd::store {

started_answer sqlite_store::start_question(const question& q, const charge_planner& plan,
                                            const branch_reader& read_branch, std::int64_t now,
                                            const load_check& admit) {
    savepoint t(db_);
    admit_asker(q.user_id, admit, now);
    started_answer out;
    // parent_id 0 asks for a new root: an edit of the conversation's first question.
    const bool new_root = q.parent_id == 0;
    std::optional<id_t> parent = new_root ? std::nullopt : q.parent_id;
    if (q.conversation_id) {
        stmt st = prepare(
            "SELECT user_id, current_leaf_id, model, deleted_at FROM conversations WHERE id = ?");
        st.bind(1, *q.conversation_id);
        if (!st.executeStep() || st.getColumn(0).getInt64() != q.user_id || !st.getColumn(3).isNull())
            throw app_error("not_found", "no such conversation");
        out.conversation_id = *q.conversation_id;
        out.model = st.getColumn(2).getString();
        if (!parent && !new_root) parent = opt_i64(st.getColumn(1));
        if (parent) {
            stmt p = prepare("SELECT 1 FROM messages WHERE id = ? AND conversation_id = ?");
            p.bind(1, *parent);
            p.bind(2, out.conversation_id);
            if (!p.executeStep()) throw app_error("not_found", "parent message not in this conversation");
        }
        if (!q.model.empty() && q.model != out.model) {
            stmt um = prepare("UPDATE conversations SET model = ? WHERE id = ?");
            um.bind(1, q.model);
            um.bind(2, out.conversation_id);
            um.exec();
            out.model = q.model;
        }
        if (q.system_prompt || q.role_id) {
            stmt us = prepare(
                "UPDATE conversations SET system_prompt = COALESCE(?, system_prompt), role_id = COALESCE(?, role_id) WHERE id = ?");
            if (q.system_prompt) us.bind(1, *q.system_prompt); else us.bind(1);
            bind_opt(us, 2, q.role_id);
            us.bind(3, out.conversation_id);
            us.exec();
        }
    } else {
        if (parent) throw app_error("invalid_params", "parent_id needs conversation_id");
        stmt st = prepare(
            "INSERT INTO conversations (user_id, title, model, role_id, system_prompt, created_at, updated_at, "
            "user_api_key_id) VALUES (?,?,?,?,?,?,?,?)");
        st.bind(1, q.user_id);
        st.bind(2, title_from(q.content));
        st.bind(3, q.model);
        bind_opt(st, 4, q.role_id);
        if (q.system_prompt && !q.system_prompt->empty()) st.bind(5, *q.system_prompt); else st.bind(5);
        st.bind(6, now);
        st.bind(7, now);
        bind_opt(st, 8, q.api_key_id);
        st.exec();
        out.conversation_id = db_.getLastInsertRowid();
        if (q.api_key_id) count_day(now, day_counter::api_questions, 1);
        out.model = q.model;
    }

    stmt um = prepare(
        "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at) VALUES (?,?,'user',?,'done',?)");
    um.bind(1, out.conversation_id);
    bind_opt(um, 2, parent);
    um.bind(3, q.content);
    um.bind(4, now);
    um.exec();
    out.user_message_id = db_.getLastInsertRowid();
    queue_for_search(out.user_message_id, q.content);
    attach_uploads(out.user_message_id, q.attachments);

    open_answer(q.user_id, out, plan, read_branch, now);
    t.commit();
    return out;
}

started_answer sqlite_store::start_regenerate(id_t user_id, id_t assistant_message_id,
                                              const std::optional<std::vector<std::string>>& attachments,
                                              const charge_planner& plan, const branch_reader& read_branch,
                                              std::int64_t now, const load_check& admit) {
    savepoint t(db_);
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
        stmt forget = prepare("DELETE FROM message_attachments WHERE message_id = ?");
        forget.bind(1, out.user_message_id);
        forget.exec();
        attach_uploads(out.user_message_id, *attachments);
    }
    open_answer(user_id, out, plan, read_branch, now);
    t.commit();
    return out;
}

// Inside the caller's transaction: charges the user and adds the streaming answer to
// out.user_message_id, filling out.message_id and out.system_prompt; then hands the branch
// from out.user_message_id up to `read_branch`.
void sqlite_store::open_answer(id_t user_id, started_answer& out, const charge_planner& plan,
                               const branch_reader& read_branch, std::int64_t now) {
    const charge cost = plan(balance_of(user_id));

    stmt am = prepare(
        "INSERT INTO messages (conversation_id, parent_id, role, status, model, charge_trial, charge_paid, created_at, "
        "asked_by_admin) VALUES (?,?,'assistant','streaming',?,?,?,?,(SELECT is_admin FROM users WHERE id = ?))");
    am.bind(1, out.conversation_id);
    am.bind(2, out.user_message_id);
    am.bind(3, out.model);
    am.bind(4, cost.trial);
    am.bind(5, cost.paid);
    am.bind(6, now);
    am.bind(7, user_id);
    am.exec();
    out.message_id = db_.getLastInsertRowid();
    count_day(now, day_counter::questions, 1);
    count_active(now, user_id);

    if (cost.trial + cost.paid > 0) {
        stmt ub = prepare(
            "UPDATE users SET trial_credits = trial_credits - ?, paid_credits = paid_credits - ? WHERE id = ?");
        ub.bind(1, cost.trial);
        ub.bind(2, cost.paid);
        ub.bind(3, user_id);
        ub.exec();
        append_ledger(user_id, now, -cost.trial, -cost.paid, "question",
                   "message:" + std::to_string(out.message_id));
    }
    stmt uc = prepare("UPDATE conversations SET current_leaf_id = ?, updated_at = ? WHERE id = ?");
    uc.bind(1, out.message_id);
    uc.bind(2, now);
    uc.bind(3, out.conversation_id);
    uc.exec();

    feed_branch(out.conversation_id, out.user_message_id, read_branch);
    stmt sp = prepare("SELECT system_prompt FROM conversations WHERE id = ?");
    sp.bind(1, out.conversation_id);
    if (sp.executeStep()) out.system_prompt = text(sp.getColumn(0));
}

// From `leaf_id` back towards the conversation's first message, until `read` has enough.
void sqlite_store::feed_branch(id_t conversation_id, id_t leaf_id, const branch_reader& read) {
    stmt st = prepare(
        "SELECT parent_id, role, content, status, id FROM messages WHERE id = ? AND conversation_id = ?");
    std::optional<id_t> cur = leaf_id;
    while (cur) {
        st.reset();
        st.bind(1, *cur);
        st.bind(2, conversation_id);
        if (!st.executeStep()) break;
        cur = opt_i64(st.getColumn(0));
        branch_message m{st.getColumn(1).getString(), st.getColumn(2).getString(), st.getColumn(3).getString(), {}};
        if (m.role == "user") m.attachments = attachments_with_text(st.getColumn(4).getInt64());
        if (!read(std::move(m))) break;
    }
}

void sqlite_store::save_partial(const std::vector<partial_answer>& answers) {
    if (answers.empty()) return;
    savepoint t(db_);
    stmt st = prepare("UPDATE messages SET content = ?, reasoning = ? WHERE id = ? AND status = 'streaming'");
    for (const auto& a : answers) {
        st.reset();
        st.bind(1, a.content);
        st.bind(2, a.reasoning);
        st.bind(3, a.message_id);
        st.exec();
    }
    t.commit();
}

balance sqlite_store::finish_answer(const finished_answer& f, std::int64_t now) {
    savepoint t(db_);
    auto m = message(f.message_id);
    if (!m) throw app_error("not_found", "no such message");
    if (m->status != "streaming") {
        // Already finished (e.g. by the start-up sweep): nothing may be refunded twice.
        t.commit();
        return balance_of(m->user_id);
    }
    stmt st = prepare(
        "UPDATE messages SET status=?, content=?, refunded=?, free_reason=?, error_reason=?, error_message=?, "
        "prompt_tokens=?, completion_tokens=?, first_token_ms=?, total_ms=?, key_id=?, finished_at=?, "
        "reasoning=?, reasoning_ms=?, reasoning_tokens=?, tokens_estimated=?, upstream_cost=?, finish_reason=? WHERE id=?");
    st.bind(1, f.status);
    st.bind(2, f.content);
    st.bind(3, f.refund ? 1 : 0);
    bind_text_or_null(st, 4, f.free_reason);
    bind_text_or_null(st, 5, f.error_reason);
    bind_text_or_null(st, 6, f.error_message);
    bind_opt(st, 7, f.prompt_tokens);
    bind_opt(st, 8, f.completion_tokens);
    bind_opt(st, 9, f.first_token_ms);
    bind_opt(st, 10, f.total_ms);
    bind_opt(st, 11, f.key_id);
    st.bind(12, now);
    st.bind(13, f.reasoning);
    bind_opt(st, 14, f.reasoning_ms);
    bind_opt(st, 15, f.reasoning_tokens);
    st.bind(16, f.tokens_estimated ? 1 : 0);
    st.bind(17, f.upstream_cost);
    bind_text_or_null(st, 18, f.finish_reason);
    st.bind(19, f.message_id);
    st.exec();
    if (f.first_token_ms) count_latency(m->created_at, *f.first_token_ms);
    count_usage(m->created_at, m->model,
                {1, f.prompt_tokens.value_or(0), f.completion_tokens.value_or(0), f.reasoning_tokens.value_or(0),
                 f.upstream_cost, f.refund ? 0 : m->charge_trial + m->charge_paid});
    queue_for_search(f.message_id, f.content);
    if (f.refund && (m->charge_trial || m->charge_paid)) {
        stmt ub = prepare(
            "UPDATE users SET trial_credits = trial_credits + ?, paid_credits = paid_credits + ? WHERE id = ?");
        ub.bind(1, m->charge_trial);
        ub.bind(2, m->charge_paid);
        ub.bind(3, m->user_id);
        ub.exec();
        append_ledger(m->user_id, now, m->charge_trial, m->charge_paid,
                   f.free_reason.empty() ? "refund" : "refund_" + f.free_reason,
                   "message:" + std::to_string(f.message_id));
    }
    auto bal = balance_of(m->user_id);
    t.commit();
    return bal;
}

int sqlite_store::interrupt_streaming(std::int64_t now) {
    std::vector<id_t> ids;
    {
        stmt st = prepare("SELECT id, content FROM messages WHERE status = 'streaming'");
        while (st.executeStep()) ids.push_back(st.getColumn(0).getInt64());
    }
    for (id_t id : ids) {
        auto m = message(id);
        finished_answer f;
        f.message_id = id;
        f.status = "interrupted";
        f.content = m->content;
        f.reasoning = m->reasoning;
        f.refund = true;
        f.error_reason = "interrupted";
        f.error_message = "the service restarted while this answer was being written";
        finish_answer(f, now);
    }
    return static_cast<int>(ids.size());
}

}  // namespace chatd::store
