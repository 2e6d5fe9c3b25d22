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

// Rows per task for the gate loops: enough units (rows x hidden) that splitting them over threads
// pays for the OpenMP region, so a batch of 32 x 512 units runs on two threads.
std::int64_t rows_per_task(std::int64_t hidden) {
  return std::max<std::int64_t>(1, 4096 / hidden);
}

// gates [B, 4H] holds pre-activations on entry and activations (i, f, g, o) on exit. The
// nonlinearities go through ATen's vectorised kernels (Sleef, dispatched by CPU); scalar std::exp
// and std::tanh made the gate math as slow as the step's GEMM at hidden 512.
template <typename T>
void forward_cells(const at::Tensor& gates, const at::Tensor& c_prev, const at::Tensor& c_next,
                   const at::Tensor& tanh_c_next, const at::Tensor& h_next) {
  const std::int64_t batch = gates.size(0), hidden = c_prev.size(1);
  at::parallel_for(0, batch, rows_per_task(hidden), [&](std::int64_t begin, std::int64_t end) {
    // Worker threads start with autograd's dispatch on; these buffers never need it.
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    const std::int64_t rows = end - begin;
    const auto block = gates.narrow(0, begin, rows).view({rows, 4, hidden});
    block.narrow(1, 0, 2).sigmoid_();
    block.select(1, 2).tanh_();
    block.select(1, 3).sigmoid_();
    const T* g = block.data_ptr<T>();
    const T* cp = c_prev.data_ptr<T>() + begin * hidden;
    T* c = c_next.data_ptr<T>() + begin * hidden;
    for (std::int64_t b = 0; b < rows; ++b) {
      const T* i = g + b * 4 * hidden;
      const T* f = i + hidden;
      const T* c_in = f + hidden;
      for (std::int64_t j = 0; j < hidden; ++j) {
        c[b * hidden + j] = f[j] * cp[b * hidden + j] + i[j] * c_in[j];
      }
    }
    auto tanh_c = tanh_c_next.narrow(0, begin, rows);
    at::tanh_out(tanh_c, c_next.narrow(0, begin, rows));
    const T* tc = tanh_c.data_ptr<T>();
    T* h = h_next.data_ptr<T>() + begin * hidden;
    for (std::int64_t b = 0; b < rows; ++b) {
      const T* o = g + b * 4 * hidden + 3 * hidden;
      for (std::int64_t j = 0; j < hidden; ++j)
        h[b * hidden + j] = o[j] * tc[b * hidden + j];
    }
  });
}

// From the gradient reaching h_t (dh + dout) and c_t (dc, updated in place to reach c_{t-1}), the
// gradients of the gates' pre-activations. Only products and sums: tanh(c_t) was kept by forward.
template <typename T>
void backward_cells(const T* gates, const T* c_prev, const T* tanh_c, const T* dh, const T* dout,
                    T* dc, T* dgates, std::int64_t batch, std::int64_t hidden) {
  at::parallel_for(0, batch, rows_per_task(hidden), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; ++b) {
      const T* i = gates + b * 4 * hidden;
      const T* f = i + hidden;
      const T* c_in = f + hidden;
      const T* o = c_in + hidden;
      T* di = dgates + b * 4 * hidden;
      T* df = di + hidden;
      T* dg = df + hidden;
      T* d_o = dg + hidden;
      const std::int64_t row = b * hidden;
      for (std::int64_t j = 0; j < hidden; ++j) {
        const T dh_j = dh[row + j] + dout[row + j];
        const T tc = tanh_c[row + j];
        const T dc_total = dc[row + j] + dh_j * o[j] * (T(1) - tc * tc);
        di[j] = dc_total * c_in[j] * i[j] * (T(1) - i[j]);
        df[j] = dc_total * c_prev[row + j] * f[j] * (T(1) - f[j]);
        dg[j] = dc_total * i[j] * (T(1) - c_in[j] * c_in[j]);
        d_o[j] = dh_j * tc * o[j] * (T(1) - o[j]);
        dc[row + j] = dc_total * f[j];
      }
    }
  });
}

class FusedLstm : public torch::autograd::Function<FusedLstm> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& h0,
                               const at::Tensor& c0, const at::Tensor& w_ih, const at::Tensor& w_hh,
                               const at::Tensor& b_ih, const at::Tensor& b_hh) {
    const std::int64_t steps = x.size(0), batch = x.size(1), hidden = w_hh.size(1);
    const auto inputs = x.contiguous();
    // Input projections of every step at once: [T, B, 4H], the biases folded in.
    auto gates = at::addmm(b_ih + b_hh, inputs.view({steps * batch, -1}), w_ih.t())
                     .view({steps, batch, 4 * hidden});
    auto cells = at::empty({steps + 1, batch, hidden}, x.options());
    auto outputs = at::empty({steps, batch, hidden}, x.options());  // h_1 .. h_T
    auto tanh_cells = at::empty({steps, batch, hidden}, x.options());
    cells[0].copy_(c0);
    const auto w_hh_t = w_hh.t();
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_lstm_forward", [&] {
      for (std::int64_t t = 0; t < steps; ++t) {
        auto step_gates = gates[t];
        step_gates.addmm_(t == 0 ? h0 : outputs[t - 1], w_hh_t);
        forward_cells<scalar_t>(step_gates, cells[t], cells[t + 1], tanh_cells[t], outputs[t]);
      }
    });
    ctx->save_for_backward({inputs, h0, w_ih, w_hh, gates, cells, outputs, tanh_cells});
    return {outputs, outputs[steps - 1].clone(), cells[steps].clone()};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& inputs = saved[0];
    const auto& h0 = saved[1];
    const auto& w_ih = saved[2];
    const auto& w_hh = saved[3];
    const auto& gates = saved[4];
    const auto& cells = saved[5];
    const auto& outputs = saved[6];
    const auto& tanh_cells = saved[7];
    const std::int64_t steps = inputs.size(0), batch = inputs.size(1), hidden = w_hh.size(1);
    const auto options = inputs.options();

    const auto grad_output =
        grads[0].defined() ? grads[0].contiguous() : at::zeros({steps, batch, hidden}, options);
    auto dh = grads[1].defined() ? grads[1].clone() : at::zeros({batch, hidden}, options);
    auto dc = grads[2].defined() ? grads[2].clone() : at::zeros({batch, hidden}, options);
    auto dgates = at::empty({steps, batch, 4 * hidden}, options);
    AT_DISPATCH_FLOATING_TYPES(inputs.scalar_type(), "fused_lstm_backward", [&] {
      for (std::int64_t t = steps - 1; t >= 0; --t) {
        auto step_dgates = dgates[t];
        backward_cells<scalar_t>(gates[t].data_ptr<scalar_t>(), cells[t].data_ptr<scalar_t>(),
                                 tanh_cells[t].data_ptr<scalar_t>(), dh.data_ptr<scalar_t>(),
                                 grad_output[t].data_ptr<scalar_t>(), dc.data_ptr<scalar_t>(),
                                 step_dgates.data_ptr<scalar_t>(), batch, hidden);
        at::mm_out(dh, step_dgates, w_hh);  // the gradient reaching h_{t-1}
      }
    });
    // Weight and input gradients of all steps in large GEMMs; h_0 .. h_{T-1} multiply the gates'
    // gradients of steps 1 .. T.
    const auto flat_dgates = dgates.view({steps * batch, 4 * hidden});
    const auto grad_w_ih = at::mm(flat_dgates.t(), inputs.view({steps * batch, -1}));
    auto grad_w_hh = at::mm(dgates[0].t(), h0);
    if (steps > 1) {
      grad_w_hh.addmm_(dgates.slice(0, 1).reshape({(steps - 1) * batch, 4 * hidden}).t(),
                       outputs.slice(0, 0, steps - 1).reshape({(steps - 1) * batch, hidden}));
    }
    const auto grad_bias = flat_dgates.sum(0);
    const auto grad_x = at::mm(flat_dgates, w_ih).view({steps, batch, -1});
    return {grad_x, dh, dc, grad_w_ih, grad_w_hh, grad_bias, grad_bias.clone()};
  }
};

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> fused_lstm_layer(
    const at::Tensor& x, const at::Tensor& h0, const at::Tensor& c0, const at::Tensor& w_ih,
    const at::Tensor& w_hh, const at::Tensor& b_ih, const at::Tensor& b_hh) {
  TORCH_CHECK(x.is_cpu() && x.size(0) > 0,
              "fused_lstm_layer runs on the CPU, on at least one step");
  auto outputs = FusedLstm::apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh);
  return {outputs[0], outputs[1], outputs[2]};
}

}  // namespace genolm::models
