# MiniMind's distillation loss (trainer/train_distillation.py at HEAD, copied below line for line
# in its arithmetic) on random student/teacher logits with -100 labels: writes the loss MiniMind
# logs, its ce and distill terms, and the gradient of the loss with respect to the student logits.
#   .venv/bin/python tools/gen_distill_fixture.py   -> test/fixtures/distill.safetensors
import json
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(7)
B, T, V, Vt = 2, 6, 11, 13  # teacher vocabulary larger: MiniMind slices it to the student's
alpha, temperature = 0.5, 1.5
student = (torch.randn(B, T, V, dtype=torch.float64) * 2).requires_grad_(True)
teacher = torch.randn(B, T, Vt, dtype=torch.float64) * 2
labels = torch.randint(0, V, (B, T))
labels[0, :2] = -100
labels[1, 4:] = -100


def distillation_loss(student_logits, teacher_logits, temperature=1.0, reduction='batchmean'):
    with torch.no_grad():
        teacher_probs = F.softmax(teacher_logits / temperature, dim=-1).detach()
    student_log_probs = F.log_softmax(student_logits / temperature, dim=-1)
    kl = F.kl_div(student_log_probs, teacher_probs, reduction=reduction)
    return (temperature ** 2) * kl


# train_epoch's arithmetic (input_ids -> logits done by the caller; here the logits are given)
loss_mask = (labels[..., 1:] != -100).double()
student_logits = student[..., :-1, :].contiguous()
teacher_logits = teacher[..., :-1, :].contiguous()[..., :V]
shift_labels = labels[..., 1:].contiguous()
loss_mask_flat = loss_mask.view(-1)
ce_loss = F.cross_entropy(student_logits.view(-1, V), shift_labels.view(-1), ignore_index=-100, reduction='none')
ce_loss_raw = torch.sum(ce_loss * loss_mask_flat) / (loss_mask_flat.sum() + 1e-8)
distill_loss = distillation_loss(student_logits.view(-1, V)[loss_mask_flat == 1], teacher_logits.reshape(-1, V)[loss_mask_flat == 1], temperature=temperature)
loss = alpha * ce_loss_raw + (1 - alpha) * distill_loss
loss.backward()

f32 = lambda t: t.detach().to(torch.float32).contiguous()
save_file(
    {'student': f32(student), 'teacher': f32(teacher), 'labels': labels.to(torch.int32).contiguous(), 'grad': f32(student.grad)},
    'test/fixtures/distill.safetensors',
    metadata={'config': json.dumps({'alpha': alpha, 'temperature': temperature}), 'loss': repr(loss.item()), 'ce': repr(ce_loss_raw.item()), 'distill': repr(distill_loss.item()),
              'source': 'minimind trainer/train_distillation.py@d65ef2c distillation_loss + train_epoch loss arithmetic, float64'},
)
print('loss', loss.item(), 'ce', ce_loss_raw.item(), 'distill', distill_loss.item())
