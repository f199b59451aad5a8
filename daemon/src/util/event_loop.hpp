#pragma once
// chatd runs one event loop per I/O thread (app.cpp). Work that belongs with a connection (an
// answer, its upstream request) is started on the loop that connection lives on.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/strand.hpp>

namespace chatd {

// One event loop: an io_context that can drop its pending work on demand (its destructor does so
// too, but too late when loops hold each other's objects: the first loop accepts sockets that
// belong to the others). At exit every loop drops its work while all of them still exist.
class event_loop : public boost::asio::io_context {
public:
    using io_context::io_context;
    void drop_pending_work() { shutdown(); }
};

// The event loop under an executor, without the strand it may be wrapped in.
inline boost::asio::any_io_executor loop_of(const boost::asio::any_io_executor& ex) {
    namespace asio = boost::asio;
    if (auto* s = ex.target<asio::strand<asio::io_context::executor_type>>()) return s->get_inner_executor();
    if (auto* s = ex.target<asio::strand<asio::any_io_executor>>()) return s->get_inner_executor();
    return ex;
}

// Which loop: the same value for every executor of one event loop.
inline const void* loop_id(const boost::asio::any_io_executor& ex) {
    return &boost::asio::query(loop_of(ex), boost::asio::execution::context);
}

}  // namespace chatd
