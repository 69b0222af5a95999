#include "nn/gru.h"

#include "tensor/vector_math.h"

namespace dtrain::nn {

void GRU::cell_forward_separate(int t, int batch, float* pre, float* rec, float* h) {
  const int hs = units_;
  const float* h_prev = t > 0 ? hidden_at(t - 1, batch) : nullptr;
  for (int b = 0; b < batch; ++b) {
    float* r = pre + std::size_t(b) * 3 * hs;
    float* z = r + hs;
    float* n = z + hs;
    const float* qr = rec + std::size_t(b) * 3 * hs;
    const float* qz = qr + hs;
    const float* qn = qz + hs;
    const std::size_t row = std::size_t(b) * hs;
    // The nonlinearities a row at a time through the vector forms (r and z are adjacent).
    for (int j = 0; j < 2 * hs; ++j) r[j] += qr[j];
    tensor::sigmoid_values(r, r, 2 * std::size_t(hs));
    for (int j = 0; j < hs; ++j) n[j] += r[j] * qn[j];
    tensor::tanh_values(n, n, std::size_t(hs));
    for (int j = 0; j < hs; ++j) {
      const float carried = h_prev ? z[j] * h_prev[row + j] : 0.0f;
      h[row + j] = (1.0f - z[j]) * n[j] + carried;
    }
  }
}

// With a_n = p_n + r * q_n:
//   dn = dh (1 - z),  da_n = dn (1 - n^2),  dz = dh (h_{t-1} - n),  da_z = dz z (1 - z),
//   dr = da_n q_n,    da_r = dr r (1 - r),  dh_{t-1} (direct) = dh z.
// r and z see p and q summed, so dp = dq for them; n sees q through r: dq_n = da_n r.
void GRU::cell_backward_separate(int t, int batch, const float* dh, float* dpre, float* drec,
                                 float* dh_prev) {
  const int hs = units_;
  const float* gates = pre_at(t, batch);
  const float* rec = recurrent_at(t, batch);
  const float* h_prev = t > 0 ? hidden_at(t - 1, batch) : nullptr;
  for (int b = 0; b < batch; ++b) {
    const float* r = gates + std::size_t(b) * 3 * hs;
    const float* z = r + hs;
    const float* n = z + hs;
    const float* qn = rec + std::size_t(b) * 3 * hs + 2 * hs;
    float* dr = dpre + std::size_t(b) * 3 * hs;
    float* dz = dr + hs;
    float* dn = dz + hs;
    float* qdr = drec + std::size_t(b) * 3 * hs;
    float* qdz = qdr + hs;
    float* qdn = qdz + hs;
    const std::size_t row = std::size_t(b) * hs;
    for (int j = 0; j < hs; ++j) {
      const float dhj = dh[row + j];
      const float hp = h_prev ? h_prev[row + j] : 0.0f;
      const float da_n = dhj * (1.0f - z[j]) * (1.0f - n[j] * n[j]);
      const float da_z = dhj * (hp - n[j]) * z[j] * (1.0f - z[j]);
      const float da_r = da_n * qn[j] * r[j] * (1.0f - r[j]);
      dr[j] = qdr[j] = da_r;
      dz[j] = qdz[j] = da_z;
      dn[j] = da_n;
      qdn[j] = da_n * r[j];
      dh_prev[row + j] = dhj * z[j];
    }
  }
}

}  // namespace dtrain::nn
