#include "train/tensor_file.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "genolm/error.h"

namespace genolm::train {
namespace {

struct DtypePair {
  torch::ScalarType torch;
  io::TensorDtype stored;
};

constexpr std::array<DtypePair, 10> kDtypes = {{{torch::kFloat64, io::TensorDtype::f64},
                                                {torch::kFloat32, io::TensorDtype::f32},
                                                {torch::kFloat16, io::TensorDtype::f16},
                                                {torch::kBFloat16, io::TensorDtype::bf16},
                                                {torch::kInt64, io::TensorDtype::i64},
                                                {torch::kInt32, io::TensorDtype::i32},
                                                {torch::kInt16, io::TensorDtype::i16},
                                                {torch::kInt8, io::TensorDtype::i8},
                                                {torch::kUInt8, io::TensorDtype::u8},
                                                {torch::kBool, io::TensorDtype::boolean}}};

io::TensorDtype stored_dtype(torch::ScalarType type, const std::string& name) {
  for (const auto& pair : kDtypes) {
    if (pair.torch == type) return pair.stored;
  }
  throw Error("cannot save tensor '" + name + "' of type " + std::string(c10::toString(type)));
}

torch::ScalarType torch_dtype(io::TensorDtype type) {
  return std::find_if(kDtypes.begin(), kDtypes.end(),
                      [type](const DtypePair& pair) { return pair.stored == type; })
      ->torch;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace

NamedTensors module_tensors(const torch::nn::Module& module, const std::string& prefix) {
  NamedTensors tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true))
    tensors.emplace_back(prefix + item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true))
    tensors.emplace_back(prefix + item.key(), item.value());
  return tensors;
}

std::string encode_tensors(const NamedTensors& tensors,
                           const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> on_cpu;  // keeps the bytes alive while the file is assembled
  std::vector<io::TensorToStore> stored;
  on_cpu.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    on_cpu.push_back(tensor.detach().to(torch::kCPU).contiguous());
    const auto& bytes = on_cpu.back();
    stored.push_back(
        {.name = name,
         .dtype = stored_dtype(bytes.scalar_type(), name),
         .shape = bytes.sizes().vec(),
         .bytes = std::string_view(static_cast<const char*>(bytes.data_ptr()), bytes.nbytes())});
  }
  return io::encode_safetensors(stored, metadata);
}

torch::Tensor to_torch(const io::StoredTensor& stored) {
  auto tensor = torch::empty(stored.shape, torch::TensorOptions().dtype(torch_dtype(stored.dtype)));
  if (!stored.bytes.empty())
    std::memcpy(tensor.data_ptr(), stored.bytes.data(), stored.bytes.size());
  return tensor;
}

void load_module_tensors(torch::nn::Module& module, const io::SafetensorsFile& file,
                         const std::string& prefix) {
  const auto expected = module_tensors(module, prefix);
  // Everything is checked before anything is copied: a file that does not fit leaves the module
  // as it was.
  for (const auto& [name, tensor] : expected) {
    const auto* stored = file.find(name);
    if (stored == nullptr) {
      throw Error(file.origin() + " does not fit this model: it lacks tensor '" + name + "'");
    }
    if (stored->shape != tensor.sizes().vec() ||
        torch_dtype(stored->dtype) != tensor.scalar_type()) {
      throw Error(file.origin() + " does not fit this model: tensor '" + name + "' is " +
                  std::string(io::dtype_name(stored->dtype)) + " " + shape_text(stored->shape) +
                  ", the model's is " +
                  std::string(io::dtype_name(stored_dtype(tensor.scalar_type(), name))) + " " +
                  shape_text(tensor.sizes().vec()));
    }
  }
  for (const auto& stored : file.tensors()) {
    if (!stored.name.starts_with(prefix)) continue;
    const bool known = std::any_of(expected.begin(), expected.end(), [&stored](const auto& item) {
      return item.first == stored.name;
    });
    if (!known) {
      throw Error(file.origin() + " does not fit this model: it holds tensor '" + stored.name +
                  "', which the model has no place for");
    }
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : expected) {
    auto target = tensor;  // shares the module's storage
    target.copy_(to_torch(*file.find(name)));
  }
}

}  // namespace genolm::train
