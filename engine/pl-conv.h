/* pl-conv.h — a convolutional network: convolution and max-pool layers feeding a PlMlp
 *
 * The network is a front end of 2-D convolutions (stride 1, zero padding, bias, followed by the
 * activation) and 2×2-style max-pools (window = stride = k), whose output is flattened
 * channel-major — as torch.nn.Flatten does with NCHW tensors — into the input of an ordinary
 * PlMlp head (pl-mlp.h), which holds the dense layers and the softmax. Everything the engine
 * knows about dense layers (training kernels, scores, masks, safetensors) keeps working on the
 * head unchanged.
 *
 * Activations are batch-major NCHW: a batch is (n, c, h, w), row-major. Conv weights are
 * (c_out, c_in, k, k), the orientation of torch.nn.Conv2d.weight. The conv parameters live in
 * one block, every conv layer's weight then its bias ([w0 b0 w1 b1 …], pools hold none); the
 * weight masks use the same layout (bias entries always 1). A filter (output channel) is dead
 * (filter_mask 0) when no kept weight reads it: no weight of the next conv layer's input channel,
 * or no weight of the head's columns of that channel; its activation map is then forced to 0.
 *
 * Architecture spec (`--arch`): "CxHxW-" then layers joined by "-": cNkK or cNkKpP (N filters of
 * K×K, zero padding P < K), mK (max-pool K×K, stride K, the output size rounded down as in
 * PyTorch), then the dense sizes, the last one the classes. "lenet5" is
 * 1x28x28-c6k5p2-m2-c16k5-m2-120-84-10 (LeCun et al. 1998, with max-pools).
 */
#pragma once

#include <glib.h>

#include "pl-mlp.h"

G_BEGIN_DECLS

typedef enum {
  PL_CONV_LAYER_CONV,
  PL_CONV_LAYER_POOL,
} PlConvLayerKind;

typedef struct {
  PlConvLayerKind kind;
  guint  c_in, h_in, w_in;
  guint  c_out, h_out, w_out;  /* a pool keeps the channels */
  guint  k;                    /* kernel (conv) or window and stride (pool) */
  guint  pad;                  /* conv: zero padding on every side */
  float *w;                    /* conv: borrowed from PlConvNet.params: (c_out, c_in, k, k) */
  float *b;                    /* conv: borrowed from PlConvNet.params: (c_out) */
  float *w_mask;               /* conv: borrowed from PlConvNet.masks: (c_out, c_in, k, k) */
  float *filter_mask;          /* conv: borrowed from PlConvNet.filter_masks: (c_out) */
} PlConvLayer;

typedef struct {
  guint         c, h, w;         /* the input image */
  guint         n_layers;        /* conv and pool layers */
  PlConvLayer  *layers;          /* owned: n_layers entries */
  PlActivation  activation;      /* after every conv layer, and in the head */
  gsize         n_params;        /* conv weights and biases */
  float        *params;          /* owned: [w0 b0 w1 b1 …] over the conv layers */
  float        *masks;           /* owned: same layout as params, bias entries 1 */
  gsize         n_filters;       /* sum of the conv layers' c_out */
  float        *filter_masks;    /* owned: per conv layer, (c_out) */
  PlMlp        *head;            /* owned: sizes[0] = the last layer's c_out · h_out · w_out */
} PlConvNet;

#define PL_CONV_MAX_LAYERS   16
#define PL_CONV_MAX_CHANNELS 4096
#define PL_CONV_MAX_KERNEL   32
#define PL_CONV_MAX_SIDE     4096
/* im2col works on blocks of samples of at most this many floats (512 KiB), so that a block
 * stays in the L2 cache between its writing and the products that read it */
#define PL_CONV_COL_FLOATS   (1 << 17)
#define PL_CONV_MAX_SAMPLE   (1 << 24)  /* values of one layer's maps or patches, per sample */

/* TRUE when @arch names a convolutional network ("lenet5", or a first part CxHxW), so that
 * callers choose between pl_conv_net_new_from_arch() and pl_mlp_new_from_arch(). */
gboolean     pl_conv_arch_is_conv      (const char        *arch);
/* Parses the spec above; an error names the spec and the part that is wrong. Parameters 0,
 * masks 1. (transfer full) */
PlConvNet   *pl_conv_net_new_from_arch (const char        *arch,
                                        PlActivation       activation,
                                        GError           **error);
PlConvNet   *pl_conv_net_copy          (const PlConvNet   *self);
void         pl_conv_net_free          (PlConvNet         *self);
/* The canonical spec, "1x28x28-c6k5p2-m2-c16k5-m2-120-84-10" (transfer full) */
char        *pl_conv_net_arch          (const PlConvNet   *self);
/* Inputs (c·h·w) and classes. */
guint        pl_conv_net_n_inputs      (const PlConvNet   *self);
guint        pl_conv_net_n_outputs     (const PlConvNet   *self);
/* Parameters of the conv layers and the head. */
gsize        pl_conv_net_n_params      (const PlConvNet   *self);
/* Weights (conv and dense) and those of them whose mask is 0. */
gsize        pl_conv_net_n_weights     (const PlConvNet   *self);
gsize        pl_conv_net_n_pruned      (const PlConvNet   *self);

/* He-uniform for ReLU, Xavier-uniform otherwise, with fan_in = c_in·k·k for a conv layer (as
 * pl_mlp_init for the head, seeded with @seed + 1); biases 0; masks applied. Deterministic. */
void         pl_conv_net_init          (PlConvNet         *self,
                                        guint64            seed);
/* w ← w ⊙ mask in every layer; filter masks from the weight masks (see above); the head's
 * pl_mlp_apply_masks(). */
void         pl_conv_net_apply_masks   (PlConvNet         *self);

/* ---- passes ------------------------------------------------------------------------------ */

typedef struct _PlConvWork PlConvWork;

/* Buffers for batches of up to @max_batch samples. (transfer full) */
PlConvWork  *pl_conv_work_new          (const PlConvNet   *net,
                                        guint              max_batch);
void         pl_conv_work_free         (PlConvWork        *work);

/* Runs the network on x (n, c·h·w), borrowed until the backward pass; returns the
 * probabilities (n, classes), valid until the next pass. A conv layer of one input channel,
 * or of 8 or 16 filters, runs the direct kernels of pl-conv-kernels.h; others im2col +
 * cblas_sgemm. */
const float *pl_conv_forward           (const PlConvNet   *net,
                                        PlConvWork        *work,
                                        const float       *x,
                                        guint              n);
/* Mean cross-entropy and correct arg-max count of the last forward (pl_nn_loss). */
double       pl_conv_loss              (const PlConvNet   *net,
                                        const PlConvWork  *work,
                                        const guint32     *y,
                                        guint              n,
                                        guint             *n_correct);
/* Writes scale · ∂(Σ_s cross-entropy_s)/∂θ of the batch of the last forward: the conv
 * parameters into @grad (net->n_params) and the head's into @head_grad (head->n_params),
 * overwriting both. Pruned weights get their gradient like the others (callers mask it). */
void         pl_conv_backward          (const PlConvNet   *net,
                                        PlConvWork        *work,
                                        const guint32     *y,
                                        guint              n,
                                        float              scale,
                                        float             *grad,
                                        float             *head_grad);

/* The activation maps of conv/pool layer @layer after the last forward, (n, c_out, h_out,
 * w_out), and the flattened head input is the last layer's. (transfer none) */
const float *pl_conv_work_activation   (const PlConvWork  *work,
                                        guint              layer);

/* ---- plain-loop references (the test oracle), in double ---------------------------------- */

/* Conv layer @layer on one sample's input (c_in, h_in, w_in) into out (c_out, h_out, w_out):
 * out = act(b + Σ w·x) ⊙ filter_mask, by nested loops, no im2col. */
void         pl_conv_layer_forward_ref (const PlConvNet   *net,
                                        guint              layer,
                                        const double      *in,
                                        double            *out);
/* Probabilities (n, classes) of the whole network by nested loops, and the mean
 * cross-entropy (with the clamp of pl_nn_loss). */
double       pl_conv_forward_ref       (const PlConvNet   *net,
                                        const float       *x,
                                        const guint32     *y,
                                        guint              n,
                                        double            *prob);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlConvNet, pl_conv_net_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlConvWork, pl_conv_work_free)

G_END_DECLS
