#include "models/fused_lstm.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>

namespace genolm::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows per thread for the gate loops: a step's gates are small (a batch of 32 x 1152 units takes
// microseconds), and an OpenMP region costs more than it saves until there is real work to split.
std::int64_t rows_per_task(std::int64_t hidden) {
  return std::max<std::int64_t>(1, 65536 / hidden);
}

template <typename T>
T sigmoid(T v) {
  return T(1) / (T(1) + std::exp(-v));
}

// gates [B, 4H] holds pre-activations on entry and activations (i, f, g, o) on exit.
template <typename T>
void forward_cells(T* gates, const T* c_prev, T* c_next, T* h_next, std::int64_t batch,
                   std::int64_t hidden) {
  at::parallel_for(0, batch, rows_per_task(hidden), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; ++b) {
      T* g = gates + b * 4 * hidden;
      for (std::int64_t j = 0; j < hidden; ++j) {
        const T i = sigmoid(g[j]);
        const T f = sigmoid(g[hidden + j]);
        const T c_in = std::tanh(g[2 * hidden + j]);
        const T o = sigmoid(g[3 * hidden + j]);
        const T c = f * c_prev[b * hidden + j] + i * c_in;
        g[j] = i;
        g[hidden + j] = f;
        g[2 * hidden + j] = c_in;
        g[3 * hidden + j] = o;
        c_next[b * hidden + j] = c;
        h_next[b * hidden + j] = o * std::tanh(c);
      }
    }
  });
}

// From the gradient reaching h_t (dh) and c_t (dc, updated in place to reach c_{t-1}), the
// gradients of the gates' pre-activations.
template <typename T>
void backward_cells(const T* gates, const T* c_prev, const T* c_next, const T* dh, T* dc, T* dgates,
                    std::int64_t batch, std::int64_t hidden) {
  at::parallel_for(0, batch, rows_per_task(hidden), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; ++b) {
      const T* g = gates + b * 4 * hidden;
      T* d = dgates + b * 4 * hidden;
      for (std::int64_t j = 0; j < hidden; ++j) {
        const std::int64_t k = b * hidden + j;
        const T i = g[j], f = g[hidden + j], c_in = g[2 * hidden + j], o = g[3 * hidden + j];
        const T tanh_c = std::tanh(c_next[k]);
        const T dc_total = dc[k] + dh[k] * o * (T(1) - tanh_c * tanh_c);
        d[j] = dc_total * c_in * i * (T(1) - i);
        d[hidden + j] = dc_total * c_prev[k] * f * (T(1) - f);
        d[2 * hidden + j] = dc_total * i * (T(1) - c_in * c_in);
        d[3 * hidden + j] = dh[k] * tanh_c * o * (T(1) - o);
        dc[k] = dc_total * f;
      }
    }
  });
}

class FusedLstm : public torch::autograd::Function<FusedLstm> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& h0,
                               const at::Tensor& c0, const at::Tensor& w_ih, const at::Tensor& w_hh,
                               const at::Tensor& b_ih, const at::Tensor& b_hh) {
    const std::int64_t batch = x.size(0), steps = x.size(1), hidden = w_hh.size(1);
    const auto inputs = x.transpose(0, 1).contiguous();  // time-major [T, B, in]
    // Input projections of every step at once: [T, B, 4H], the biases folded in.
    auto gates = at::addmm(b_ih + b_hh, inputs.view({steps * batch, -1}), w_ih.t())
                     .view({steps, batch, 4 * hidden});
    auto cells = at::empty({steps + 1, batch, hidden}, x.options());
    auto hiddens = at::empty({steps + 1, batch, hidden}, x.options());
    cells[0].copy_(c0);
    hiddens[0].copy_(h0);
    const auto w_hh_t = w_hh.t();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_lstm_forward", [&] {
      for (std::int64_t t = 0; t < steps; ++t) {
        auto step_gates = gates[t];
        step_gates.addmm_(hiddens[t], w_hh_t);
        forward_cells<scalar_t>(step_gates.data_ptr<scalar_t>(), cells[t].data_ptr<scalar_t>(),
                                cells[t + 1].data_ptr<scalar_t>(),
                                hiddens[t + 1].data_ptr<scalar_t>(), batch, hidden);
      }
    });
    ctx->save_for_backward({inputs, w_ih, w_hh, gates, cells, hiddens});
    auto output = hiddens.slice(0, 1).transpose(0, 1).contiguous();
    return {output, hiddens[steps].clone(), cells[steps].clone()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& inputs = saved[0];
    const auto& w_ih = saved[1];
    const auto& w_hh = saved[2];
    const auto& gates = saved[3];
    const auto& cells = saved[4];
    const auto& hiddens = saved[5];
    const std::int64_t steps = inputs.size(0), batch = inputs.size(1), hidden = w_hh.size(1);
    const auto options = inputs.options();

    const auto grad_output = grads[0].defined() ? grads[0].transpose(0, 1).contiguous()
                                                : at::zeros({steps, batch, hidden}, options);
    auto dh = grads[1].defined() ? grads[1].clone() : at::zeros({batch, hidden}, options);
    auto dc = grads[2].defined() ? grads[2].clone() : at::zeros({batch, hidden}, options);
    auto dgates = at::empty({steps, batch, 4 * hidden}, options);
    auto dh_total = at::empty({batch, hidden}, options);
    AT_DISPATCH_FLOATING_TYPES(inputs.scalar_type(), "fused_lstm_backward", [&] {
      for (std::int64_t t = steps - 1; t >= 0; --t) {
        at::add_out(dh_total, dh, grad_output[t]);
        auto step_dgates = dgates[t];
        backward_cells<scalar_t>(gates[t].data_ptr<scalar_t>(), cells[t].data_ptr<scalar_t>(),
                                 cells[t + 1].data_ptr<scalar_t>(), dh_total.data_ptr<scalar_t>(),
                                 dc.data_ptr<scalar_t>(), step_dgates.data_ptr<scalar_t>(), batch,
                                 hidden);
        at::mm_out(dh, step_dgates, w_hh);  // the gradient reaching h_{t-1}
      }
    });
    // Weight and input gradients of all steps in three large GEMMs.
    const auto flat_dgates = dgates.view({steps * batch, 4 * hidden});
    const auto grad_w_ih = at::mm(flat_dgates.t(), inputs.view({steps * batch, -1}));
    const auto grad_w_hh =
        at::mm(flat_dgates.t(), hiddens.slice(0, 0, steps).reshape({steps * batch, hidden}));
    const auto grad_bias = flat_dgates.sum(0);
    const auto grad_x = at::mm(flat_dgates, w_ih).view({steps, batch, -1}).transpose(0, 1);
    return {grad_x, dh, dc, grad_w_ih, grad_w_hh, grad_bias, grad_bias.clone()};
  }
};

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> fused_lstm_layer(
    const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0, const at::Tensor& w_ih,
    const at::Tensor& w_hh, const at::Tensor& b_ih, const at::Tensor& b_hh) {
  auto outputs = FusedLstm::apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh);
  return {outputs[0], outputs[1], outputs[2]};
}

}  // namespace genolm::models
