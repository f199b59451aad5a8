#pragma once
// What users pick from when they ask: models (kept in the chat service's memory too), roles
// and preset questions. The one place that reads and changes them, for users' and operators'
// methods alike.
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace chatd::chat {

class chat_service;

class catalog {
public:
    catalog(store::database& db, chat_service& chat) : db_(db), chat_(chat) {}

    // Models: stored, then the chat service answers with the new list at once.
    boost::asio::awaitable<void> save_model(store::model_row m);
    // not_found when there is no such model.
    boost::asio::awaitable<void> remove_model(std::string id);
    // Takes in the models as other instances sharing the database left them.
    boost::asio::awaitable<void> refresh_models();

    boost::asio::awaitable<std::vector<store::role_row>> roles();
    boost::asio::awaitable<std::optional<store::role_row>> role(store::id_t id);
    // Adds (id 0) or replaces a role; returns its id.
    boost::asio::awaitable<store::id_t> save_role(store::role_row r);
    boost::asio::awaitable<bool> remove_role(store::id_t id);

    boost::asio::awaitable<std::vector<store::preset_row>> presets();
    boost::asio::awaitable<std::optional<store::preset_row>> preset(store::id_t id);
    boost::asio::awaitable<store::id_t> save_preset(store::preset_row p);
    boost::asio::awaitable<bool> remove_preset(store::id_t id);

private:
    store::database& db_;
    chat_service& chat_;
};

}  // namespace chatd::chat
