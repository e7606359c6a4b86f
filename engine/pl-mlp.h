/* pl-mlp.h — a multi-layer perceptron with a mask per weight and per hidden neuron
 *
 * Layer i maps sizes[i] inputs to sizes[i+1] outputs. Weights are row-major [out][in], the
 * orientation of PyTorch's Linear.weight. All parameters live in one block, every layer's weight
 * then its bias ([w0 b0 w1 b1 …]); the weight masks use the same layout (bias entries are
 * always 1: biases are never pruned), so gradients, optimiser state and masks are flat arrays
 * that line up with the parameters.
 *
 * A pruned weight is exactly 0 and its mask entry 0. A hidden neuron is pruned (neuron_mask 0)
 * when its output cannot reach the next layer; its activation is then forced to 0.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PL_ACTIVATION_RELU,
  PL_ACTIVATION_TANH,
  PL_ACTIVATION_SIGMOID,
} PlActivation;

typedef struct {
  guint  n_in;
  guint  n_out;
  float *w;            /* borrowed from PlMlp.params: (n_out, n_in) */
  float *b;            /* borrowed from PlMlp.params: (n_out) */
  float *w_mask;       /* borrowed from PlMlp.masks: (n_out, n_in), 1 kept, 0 pruned */
  float *neuron_mask;  /* borrowed from PlMlp.neuron_masks: (n_out); all 1 on the output layer */
} PlLayer;

typedef struct {
  guint         n_layers;
  guint        *sizes;         /* owned: n_layers + 1 entries */
  PlActivation  activation;    /* of the hidden layers; the output feeds a softmax */
  PlLayer      *layers;        /* owned: n_layers entries */
  gsize         n_params;      /* weights and biases */
  float        *params;        /* owned: [w0 b0 w1 b1 …] */
  float        *masks;         /* owned: same layout as params, bias entries 1 */
  gsize         n_neurons;     /* sum of the layer output sizes */
  float        *neuron_masks;  /* owned: per layer, (n_out) */
} PlMlp;

#define PL_MLP_MAX_LAYERS 16
#define PL_MLP_MAX_WIDTH  65536

/* @sizes has n_layers + 1 entries, each in 1..PL_MLP_MAX_WIDTH. Parameters are 0, masks 1. */
PlMlp       *pl_mlp_new              (const guint  *sizes,
                                      guint         n_layers,
                                      PlActivation  activation);
/* Parses "784-300-100-10". */
PlMlp       *pl_mlp_new_from_arch    (const char   *arch,
                                      PlActivation  activation,
                                      GError      **error);
gboolean     pl_arch_parse           (const char   *arch,
                                      guint        *sizes,
                                      guint        *n_layers,
                                      GError      **error);
PlMlp       *pl_mlp_copy             (const PlMlp  *self);
void         pl_mlp_free             (PlMlp        *self);

/* He-uniform for ReLU, Xavier-uniform (Glorot & Bengio 2010) otherwise; biases 0. Masks
 * are kept and applied. Deterministic for a seed. */
void         pl_mlp_init             (PlMlp        *self,
                                      guint64       seed);

/* "784-300-100-10" (transfer full) */
char        *pl_mlp_arch             (const PlMlp  *self);
gsize        pl_mlp_n_weights        (const PlMlp  *self);
/* Number of weights whose mask is 0. */
gsize        pl_mlp_n_pruned         (const PlMlp  *self);
/* w ← w ⊙ mask; neuron masks from the weight masks (a hidden neuron lives while one of its
 * outgoing weights is kept). */
void         pl_mlp_apply_masks      (PlMlp        *self);
/* Copies parameters, masks and neuron masks of @src into @self (same architecture). */
void         pl_mlp_copy_from        (PlMlp        *self,
                                      const PlMlp  *src);

const char  *pl_activation_to_string (PlActivation  activation);
gboolean     pl_activation_parse     (const char   *text,
                                      PlActivation *activation,
                                      GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlMlp, pl_mlp_free)

G_END_DECLS
