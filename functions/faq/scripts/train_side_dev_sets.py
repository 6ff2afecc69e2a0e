#!/usr/bin/env python3
"""Development sets cut from the training side of the public sets, for tuning
without ever reading a test.jsonl (written to the directory given, default
/tmp/dev):

- banking-dev.jsonl: 20 training questions per BANKING77 intent that are not
  in faq-10shot.json, asked of faq-10shot.json;
- clinc-dev-faq.json + clinc-dev.jsonl: 135 CLINC150 intents with 15 training
  examples each; 10 other examples of each as `faq:` queries, and 10 examples
  of each of the 15 intents left out as `none`.

    python3 functions/faq/scripts/train_side_dev_sets.py [OUT_DIR]
"""
import os
import sys
import json
import random
E=os.environ.get('HANDOFF_EVAL_DIR', os.path.join(os.path.dirname(__file__), '../../../../shared/eval'))
OUT=sys.argv[1] if len(sys.argv) > 1 else '/tmp/dev'
os.makedirs(OUT, exist_ok=True)
random.seed(7)
# BANKING77: 10-shot catalog, queries = other training examples (20 per intent)
ten=json.load(open(f'{E}/banking77/faq-10shot.json')); full=json.load(open(f'{E}/banking77/faq-full.json'))
used={(f['id'],q) for f in ten['faqs'] for q in f['questions']['en']}
out=[]
for f in full['faqs']:
    rest=[q for q in f['questions']['en'] if (f['id'],q) not in used]
    for q in random.sample(rest,min(20,len(rest))): out.append({'text':q,'expect':'faq:'+f['id']})
open(OUT+'/banking-dev.jsonl','w').write(''.join(json.dumps(o)+'\n' for o in out))
# CLINC150: catalog = 135 intents x 15 examples; queries = 10 other examples of those, and 15 held-out intents x 10 as none
c=json.load(open(f'{E}/clinc150/faq-full.json'))
faqs=c['faqs'][:]; random.shuffle(faqs)
held=faqs[:15]; kept=faqs[15:]
cat={'business':c['business'],'faqs':[]}; out=[]
for f in kept:
    qs=f['questions']['en'][:]; random.shuffle(qs)
    cat['faqs'].append({'id':f['id'],'questions':{'en':qs[:15]},'answer':f['answer']})
    for q in qs[15:25]: out.append({'text':q,'expect':'faq:'+f['id']})
for f in held:
    for q in random.sample(f['questions']['en'],10): out.append({'text':q,'expect':'none'})
json.dump(cat,open(OUT+'/clinc-dev-faq.json','w'))
open(OUT+'/clinc-dev.jsonl','w').write(''.join(json.dumps(o)+'\n' for o in out))
print(len(out))
