// The Eigen vocabulary of the core: row-major float matrices (the layout checkpoints store) and
// maps over raw buffers. Interfaces the GPU backend implements take spans and shapes instead; Eigen
// stays inside the core's implementation.
#pragma once

#include <Eigen/Core>

namespace lowbit {

using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using VectorF = Eigen::VectorXf;
using RowVectorF = Eigen::RowVectorXf;
using MatrixRMMap = Eigen::Map<MatrixRM>;
using ConstMatrixRMMap = Eigen::Map<const MatrixRM>;

}  // namespace lowbit
