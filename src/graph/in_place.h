// The in-place pass of the graph compiler: which layer outputs share their input's memory
// and which input gradients share their output gradient's memory. It runs after the
// gradients exist and before the steps are emitted; a shared tensor's lifetime is then
// the union of the step touches on either id (GraphTensor::alias_of).
//
// Forward: output 0 of layer L aliases L's input i when
//   (a) L supports_in_place(i) (its forward works in the input's memory and its backward
//       does not read input i) and the two tensors have the same size;
//   (b) L is the only layer that reads the input (a fan-out gets a multiout view, whose
//       consumers all read the same tensor id; views are looked through);
//   (c) no layer whose backward runs reads the input there: the producer's
//       backward_needs_output (through views) and L's own backward_needs_input;
//   (d) the input is not a model input written by the loader, nor read by the caller after
//       the step (model outputs, loss predictions, input gradients).
// Backward: dL/d(input i) of layer L aliases dL/d(output 0) (multiout: the first
// consumer's gradient, to which it adds the others) when L
// supports_in_place_derivative(i), both have the same size and the output gradient is not
// an external one the caller sets. Only L reads dL/d(output 0) (every gradient has one
// reader, the producer of its activation), and its calc_gradient runs before
// calc_derivative; at most one input per layer takes the alias, the others are written
// from the intact output gradient.
#pragma once

#include "graph/graph.h"

namespace edgetrain {

// Sets GraphTensor::alias_of and overwritten_by on the graph's tensors.
void assign_in_place(CompiledGraph& graph);

}  // namespace edgetrain
